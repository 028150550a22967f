// HttpClient: tilectl's side of the control API: requests and streams over the daemon's unix socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "api/http_message.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::api {

class HttpClient {
 public:
  // `max_response_bytes` bounds a response body and any one chunk of a stream.
  explicit HttpClient(std::string socket_path, std::size_t max_response_bytes = 64 * 1024 * 1024);

  // Sends one request and returns the server's response, whatever its status. `timeout` bounds the
  // whole exchange: connecting, sending and receiving. An idle kept-alive connection is reused.
  [[nodiscard]] tl::expected<HttpResponse, std::string> request(
      std::string_view method, std::string_view target, std::string_view body = {},
      std::string_view content_type = "application/json",
      std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Opens a stream: `on_chunk` gets each chunk of a 2xx response as it arrives and returns false to
  // stop early. `timeout` bounds connecting and the response's head; the stream itself may then last
  // as long as the server keeps it open. Returns the status when the stream ends (or is stopped);
  // a non-2xx answer is an error carrying the server's code and message.
  [[nodiscard]] tl::expected<int, std::string> stream(
      std::string_view method, std::string_view target, const std::function<bool(std::string_view chunk)>& on_chunk,
      std::chrono::milliseconds timeout = std::chrono::seconds(10));

  [[nodiscard]] const std::string& socket_path() const noexcept { return path_; }

 private:
  tl::expected<void, std::string> connect_if_needed(std::chrono::milliseconds timeout);
  struct SendFailure {
    std::string message;
    bool answer_may_follow = false;  // the server closed early: its answer may be waiting to be read
  };
  tl::expected<void, SendFailure> send_request(std::string_view method, std::string_view target, std::string_view body,
                                               std::string_view content_type,
                                               std::chrono::steady_clock::time_point deadline);

  std::string path_;
  std::size_t max_response_bytes_;
  util::UniqueFd connection_;  // kept between requests while the server keeps it alive
};

// "server answered 404 (not_found): no partition named 'x'": the words of an error response.
[[nodiscard]] std::string describe_error_response(const HttpResponse& response);

}  // namespace tilehv::api
