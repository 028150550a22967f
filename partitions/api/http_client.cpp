// HttpClient: request framing, the response loop and connection reuse.
#include "api/http_client.hpp"

#include <poll.h>

#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/http_response_parser.hpp"
#include "api/socket_io.hpp"
#include "api/unix_socket.hpp"
#include "util/errno_text.hpp"

namespace tilehv::api {
namespace {

std::string io_error(std::string_view what, const IoResult& result, std::string_view path) {
  switch (result.status) {
    case IoStatus::kTimedOut:
      return fmt::format("timed out {} {}", what, path);
    case IoStatus::kPeerGone:
      return fmt::format("{} closed the connection while {}", path, what);
    default:
      return fmt::format("error {} {}: {}", what, path, util::errno_text(result.error));
  }
}

// An idle kept-alive connection that has something to read has been closed by the server (or
// carries bytes nobody asked for): either way it cannot carry the next request.
bool still_usable(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 0;
}

}  // namespace

HttpClient::HttpClient(std::string socket_path, std::size_t max_response_bytes)
    : path_(std::move(socket_path)), max_response_bytes_(max_response_bytes) {}

tl::expected<void, std::string> HttpClient::connect_if_needed(std::chrono::milliseconds timeout) {
  if (connection_ && still_usable(connection_.get())) return {};
  connection_.reset();
  auto fd = connect_unix(path_, timeout);
  if (!fd) return tl::unexpected(fd.error());
  connection_ = std::move(*fd);
  return {};
}

tl::expected<void, HttpClient::SendFailure> HttpClient::send_request(std::string_view method, std::string_view target,
                                                         std::string_view body, std::string_view content_type,
                                                         Clock::time_point deadline) {
  for (const char c : std::string(method) + std::string(target)) {
    if (c == '\r' || c == '\n' || c == ' ' || c == '\0') {
      return tl::unexpected(SendFailure{fmt::format("request target '{}' holds a space or a control character", target)});
    }
  }
  std::string text = fmt::format("{} {} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n", method, target, body.size());
  if (!body.empty()) text += fmt::format("Content-Type: {}\r\n", content_type);
  text += "\r\n";
  text += body;
  const auto sent = send_all(connection_.get(), text, deadline, -1);
  if (sent.status != IoStatus::kOk) {
    // A server that refuses a request early (413 for a body too large) answers and closes before
    // it has read everything: the connection stays for request() to read that answer.
    const bool answer_may_follow = sent.status == IoStatus::kPeerGone;
    if (!answer_may_follow) connection_.reset();
    return tl::unexpected(SendFailure{io_error("sending to", sent, path_), answer_may_follow});
  }
  return {};
}

tl::expected<HttpResponse, std::string> HttpClient::request(std::string_view method, std::string_view target,
                                                            std::string_view body, std::string_view content_type,
                                                            std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  if (auto connected = connect_if_needed(timeout); !connected) return tl::unexpected(connected.error());
  auto sent = send_request(method, target, body, content_type, deadline);
  if (!sent && !sent.error().answer_may_follow) return tl::unexpected(sent.error().message);
  HttpResponseParser parser(max_response_bytes_, nullptr, method == "HEAD");
  std::array<char, 16 * 1024> buffer{};
  while (!parser.complete()) {
    const auto got = receive_some(connection_.get(), buffer, deadline, -1);
    const bool ended = got.status == IoStatus::kPeerGone;
    if (got.status != IoStatus::kOk && !ended) {
      connection_.reset();
      return tl::unexpected(sent ? io_error("waiting for an answer from", got, path_) : sent.error().message);
    }
    if (ended ? !parser.finish() : !parser.feed({buffer.data(), got.bytes})) {
      connection_.reset();
      return tl::unexpected(sent ? fmt::format("{}: {}", path_, parser.error()) : sent.error().message);
    }
  }
  if (!sent || !parser.keep_alive()) connection_.reset();
  return std::move(parser.response());
}

tl::expected<int, std::string> HttpClient::stream(std::string_view method, std::string_view target,
                                                  const std::function<bool(std::string_view chunk)>& on_chunk,
                                                  std::chrono::milliseconds timeout) {
  const auto head_deadline = Clock::now() + timeout;
  // A stream holds its connection to the end: it is never reused.
  connection_.reset();
  if (auto connected = connect_if_needed(timeout); !connected) return tl::unexpected(connected.error());
  if (auto sent = send_request(method, target, {}, {}, head_deadline); !sent) {
    connection_.reset();
    return tl::unexpected(sent.error().message);
  }
  HttpResponseParser parser(max_response_bytes_, on_chunk, false);
  std::array<char, 16 * 1024> buffer{};
  util::UniqueFd connection = std::move(connection_);
  while (!parser.complete()) {
    const auto deadline = parser.headers_complete() ? Clock::time_point::max() : head_deadline;
    const auto got = receive_some(connection.get(), buffer, deadline, -1);
    const bool ended = got.status == IoStatus::kPeerGone;
    if (got.status != IoStatus::kOk && !ended) return tl::unexpected(io_error("waiting for the stream from", got, path_));
    const bool fine = ended ? parser.finish() : parser.feed({buffer.data(), got.bytes});
    if (parser.stopped_by_sink()) break;
    if (!fine) return tl::unexpected(fmt::format("{}: {}", path_, parser.error()));
  }
  const auto& response = parser.response();
  if (response.status < 200 || response.status >= 300) return tl::unexpected(describe_error_response(response));
  return response.status;
}

std::string describe_error_response(const HttpResponse& response) {
  const auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_object() && parsed.contains("code") && parsed.contains("message") && parsed["code"].is_string() &&
      parsed["message"].is_string()) {
    return fmt::format("server answered {} ({}): {}", response.status, parsed["code"].get<std::string>(),
                       parsed["message"].get<std::string>());
  }
  return fmt::format("server answered {} {}", response.status, status_reason(response.status));
}

}  // namespace tilehv::api
