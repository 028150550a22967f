// HttpServer: the control API's HTTP/1.1 server on a unix socket. One acceptor thread, and one
// thread per connection up to a cap, so that a slow client, an open stream or a handler that takes
// seconds (an apply) never holds up another client. stop(), and the destructor, end it all promptly.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include <tl/expected.hpp>

#include "api/http_connection.hpp"
#include "api/http_router.hpp"
#include "api/http_server_counters.hpp"
#include "api/response_stream.hpp"
#include "api/unix_socket.hpp"
#include "util/event_fd.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::api {

class HttpServer {
 public:
  // Listens on a unix socket path (see listen_unix: mode, group, stale and live sockets). The path
  // is removed again when the server is destroyed, if it is still this server's socket.
  [[nodiscard]] static tl::expected<std::unique_ptr<HttpServer>, std::string> listen(const UnixListenOptions& socket,
                                                                                     const HttpServerLimits& limits = {});
  // Serves a socket that already listens (handed in by a service manager or a test).
  [[nodiscard]] static tl::expected<std::unique_ptr<HttpServer>, std::string> adopt(util::UniqueFd listening,
                                                                                    const HttpServerLimits& limits = {});

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  // Routes are fixed before start(): connection threads read them without a lock. Calling these
  // after start() throws std::logic_error; a malformed pattern throws std::invalid_argument.
  void route(std::string method, std::string_view pattern, Handler handler);
  void stream_route(std::string method, std::string_view pattern, StreamHandler handler);

  // Starts accepting. Connections that arrived before wait in the socket's backlog.
  [[nodiscard]] tl::expected<void, std::string> start();
  // Stops accepting, tells every connection and stream to end, and joins their threads. A handler
  // that is running finishes first (streams see write() and wait() return false). Idempotent.
  void stop() noexcept;

  [[nodiscard]] HttpServerStats stats() const noexcept { return counters_.snapshot(); }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  struct Connection;

  HttpServer(util::UniqueFd listening, util::EventFd cancel, const HttpServerLimits& limits);
  void accept_loop() noexcept;
  void reject(util::UniqueFd client) noexcept;
  void reap(bool all) noexcept;

  util::UniqueFd listening_;
  util::EventFd cancel_;  // signalled once by stop() and never read: it stays readable for every poll
  HttpServerLimits limits_;
  HttpRouter router_;
  HttpServerCounters counters_;
  std::string path_;      // the socket file this server created, or empty
  dev_t path_device_ = 0;  // its identity, so that a successor's socket is never removed
  ino_t path_inode_ = 0;
  std::thread acceptor_;
  bool started_ = false;
  bool stopped_ = false;
  std::vector<std::unique_ptr<Connection>> connections_;  // the acceptor's while it runs, then stop()'s
};

}  // namespace tilehv::api
