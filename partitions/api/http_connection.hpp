// HttpConnection: serves the requests of one client connection, one after the other (keep-alive,
// pipelining), on the thread the server gave it, until the client leaves, a request fails, a
// deadline passes or the server stops.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "api/http_request_parser.hpp"
#include "api/http_router.hpp"
#include "api/http_server_counters.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::api {

struct HttpServerLimits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  std::chrono::milliseconds request_timeout{10'000};  // from a request's first byte to its last
  std::chrono::milliseconds idle_timeout{60'000};     // an open connection waiting for its next request
  std::chrono::milliseconds write_timeout{10'000};    // any one response or chunk to reach the client
  std::size_t max_connections = 64;
};

class HttpConnection {
 public:
  HttpConnection(util::UniqueFd fd, const HttpRouter& router, const HttpServerLimits& limits, int cancel_fd,
                 HttpServerCounters& counters);

  // Serves until the connection ends. Never throws: a handler's exception becomes a 500.
  void serve() noexcept;

 private:
  enum class Next { kContinue, kClose };

  // Reads until the parser holds a complete request or failed; kClose if the connection ended
  // (or timed out, after answering 408) first.
  Next read_request(bool first);
  Next dispatch(HttpRequest request, bool keep_alive);
  Next run_stream(const StreamHandler& handler, const HttpRequest& request, bool keep_alive);
  Next send(const HttpResponse& response, bool keep_alive, bool head_only);

  util::UniqueFd fd_;
  const HttpRouter& router_;
  const HttpServerLimits& limits_;
  int cancel_fd_;
  HttpServerCounters& counters_;
  HttpRequestParser parser_;
  std::string pending_;  // bytes read and not yet parsed (the start of a pipelined request)
};

}  // namespace tilehv::api
