// ResponseStream: chunked transfer coding over the client's socket.
#include "api/response_stream.hpp"

#include <fmt/format.h>

#include "api/socket_io.hpp"

namespace tilehv::api {

ResponseStream::ResponseStream(int fd, int cancel_fd, std::chrono::milliseconds write_timeout, bool keep_alive,
                               bool head_only)
    : fd_(fd), cancel_fd_(cancel_fd), write_timeout_(write_timeout), keep_alive_(keep_alive), head_only_(head_only) {}

bool ResponseStream::send(std::string_view bytes) {
  // A stopping server ends streams even while the client's socket still has room.
  if (!alive_ || cancel_requested(cancel_fd_)) return alive_ = false;
  const IoResult result = send_all(fd_, bytes, Clock::now() + write_timeout_, cancel_fd_);
  alive_ = result.status == IoStatus::kOk;
  return alive_;
}

bool ResponseStream::begin(int status, std::string_view content_type,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  if (began_ || responded_) return alive_;
  began_ = true;
  status_ = status;
  HttpResponse head;
  head.status = status;
  head.content_type = std::string(content_type);
  head.headers = headers;
  return send(serialize_response_head(head, keep_alive_, true));
}

bool ResponseStream::write(std::string_view chunk) {
  if (!begin()) return false;
  if (chunk.empty() || head_only_) return alive_;
  return send(fmt::format("{:x}\r\n{}\r\n", chunk.size(), chunk));
}

bool ResponseStream::respond(const HttpResponse& response) {
  if (began_ || responded_) return false;
  responded_ = true;
  status_ = response.status;
  std::string text = serialize_response_head(response, keep_alive_);
  if (!head_only_) text += response.body;
  return send(text);
}

bool ResponseStream::wait(std::chrono::milliseconds timeout) {
  if (!alive_) return false;
  alive_ = wait_for_hangup(fd_, timeout, cancel_fd_) == IoStatus::kOk;
  return alive_;
}

bool ResponseStream::finish() {
  if (!began_ || finished_) return alive_;
  finished_ = true;
  if (head_only_) return alive_;
  return send("0\r\n\r\n");
}

}  // namespace tilehv::api
