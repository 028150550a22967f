// HttpConnection: the read-parse-dispatch-answer loop of one client.
#include "api/http_connection.hpp"

#include <array>
#include <exception>
#include <optional>

#include <fmt/format.h>

#include "api/response_stream.hpp"
#include "api/socket_io.hpp"

namespace tilehv::api {
namespace {

HttpRequestLimits request_limits(const HttpServerLimits& limits) {
  HttpRequestLimits out;
  out.max_header_bytes = limits.max_header_bytes;
  out.max_body_bytes = limits.max_body_bytes;
  return out;
}

std::string exception_text(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

}  // namespace

HttpConnection::HttpConnection(util::UniqueFd fd, const HttpRouter& router, const HttpServerLimits& limits,
                               int cancel_fd, HttpServerCounters& counters)
    : fd_(std::move(fd)),
      router_(router),
      limits_(limits),
      cancel_fd_(cancel_fd),
      counters_(counters),
      parser_(request_limits(limits)) {}

void HttpConnection::serve() noexcept {
  try {
    bool first = true;
    while (!cancel_requested(cancel_fd_)) {
      if (read_request(first) == Next::kClose) return;
      first = false;
      if (parser_.state() == HttpRequestParser::State::kFailed) {
        const auto& error = parser_.error();
        (void)send(error_response(error.status, error.code, error.message), false, false);
        return;
      }
      const bool keep_alive = parser_.keep_alive();
      if (dispatch(parser_.take_request(), keep_alive) == Next::kClose) return;
    }
  } catch (...) {
    // Only allocation can throw here (handlers' exceptions are caught in dispatch): drop the connection.
  }
}

HttpConnection::Next HttpConnection::read_request(bool first) {
  // A new connection must send its first request within the request deadline; a kept-alive one
  // may sit idle longer between requests, and is closed without a word when it does.
  std::optional<Clock::time_point> request_deadline;
  if (first || !pending_.empty()) request_deadline = Clock::now() + limits_.request_timeout;
  const auto idle_deadline = Clock::now() + limits_.idle_timeout;
  std::array<char, 16 * 1024> buffer{};
  for (;;) {
    if (!pending_.empty()) {
      pending_.erase(0, parser_.feed(pending_));
      if (parser_.state() != HttpRequestParser::State::kReading) return Next::kContinue;
      if (parser_.take_continue()) {
        const auto sent = send_all(fd_.get(), "HTTP/1.1 100 Continue\r\n\r\n", Clock::now() + limits_.write_timeout,
                                   cancel_fd_);
        if (sent.status != IoStatus::kOk) return Next::kClose;
      }
    }
    const auto got = receive_some(fd_.get(), buffer, request_deadline.value_or(idle_deadline), cancel_fd_);
    switch (got.status) {
      case IoStatus::kOk:
        if (!request_deadline) request_deadline = Clock::now() + limits_.request_timeout;
        pending_.append(buffer.data(), got.bytes);
        continue;
      case IoStatus::kTimedOut:
        if (request_deadline) {
          (void)send(error_response(408, "request_timeout",
                                    fmt::format("the request was not complete within {} ms",
                                                limits_.request_timeout.count())),
                     false, false);
        }
        return Next::kClose;
      case IoStatus::kPeerGone:
        // A client that shut down its sending side mid-request may still read the answer.
        if (parser_.in_progress()) {
          (void)send(error_response(400, "incomplete_request", "the connection ended before the request was complete"),
                     false, false);
        }
        return Next::kClose;
      case IoStatus::kCanceled:
      case IoStatus::kFailed:
        return Next::kClose;
    }
  }
}

HttpConnection::Next HttpConnection::dispatch(HttpRequest request, bool keep_alive) {
  const bool head_only = request.method == "HEAD";
  auto match = router_.resolve(request.method, request.path);
  if (!match) return send(match.error(), keep_alive, head_only);
  request.params = std::move(match->params);
  if (match->stream_handler != nullptr) return run_stream(*match->stream_handler, request, keep_alive);
  HttpResponse response;
  try {
    response = (*match->handler)(request);
  } catch (...) {
    response = error_response(500, "internal_error", fmt::format("{} {} failed: {}", request.method, request.path,
                                                                 exception_text(std::current_exception())));
  }
  return send(response, keep_alive, head_only);
}

HttpConnection::Next HttpConnection::run_stream(const StreamHandler& handler, const HttpRequest& request,
                                                bool keep_alive) {
  ResponseStream stream(fd_.get(), cancel_fd_, limits_.write_timeout, keep_alive, request.method == "HEAD");
  try {
    handler(request, stream);
  } catch (...) {
    const auto message =
        fmt::format("{} {} failed: {}", request.method, request.path, exception_text(std::current_exception()));
    if (!stream.began() && !stream.responded()) {
      counters_.response(500);
      return stream.respond(error_response(500, "internal_error", message)) && keep_alive ? Next::kContinue
                                                                                          : Next::kClose;
    }
    // The head is out: closing without the last chunk is how HTTP tells the client the stream broke.
    counters_.response(500);
    return Next::kClose;
  }
  if (!stream.began() && !stream.responded()) (void)stream.begin();
  (void)stream.finish();
  counters_.response(stream.status());
  return stream.alive() && keep_alive ? Next::kContinue : Next::kClose;
}

HttpConnection::Next HttpConnection::send(const HttpResponse& response, bool keep_alive, bool head_only) {
  counters_.response(response.status);
  std::string text = serialize_response_head(response, keep_alive);
  if (!head_only) text += response.body;
  const auto sent = send_all(fd_.get(), text, Clock::now() + limits_.write_timeout, cancel_fd_);
  return sent.status == IoStatus::kOk && keep_alive ? Next::kContinue : Next::kClose;
}

}  // namespace tilehv::api
