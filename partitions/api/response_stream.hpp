// ResponseStream: the answer of a streaming route (console, events): a status and headers, then
// chunks of HTTP/1.1 chunked transfer coding (RFC 9112 section 7.1) for as long as the handler has
// something to say, the client listens and the server runs.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http_message.hpp"

namespace tilehv::api {

class ResponseStream {
 public:
  // The server makes one per streaming request: `fd` is the client's socket, `cancel_fd` becomes
  // readable when the server stops, and every write must finish within `write_timeout` (a client
  // that stops reading is treated as gone rather than allowed to hold the thread).
  ResponseStream(int fd, int cancel_fd, std::chrono::milliseconds write_timeout, bool keep_alive, bool head_only);
  ResponseStream(const ResponseStream&) = delete;
  ResponseStream& operator=(const ResponseStream&) = delete;

  // Sends the status line and headers; only the first call sends anything. Returns alive().
  bool begin(int status = 200, std::string_view content_type = "application/x-ndjson",
             const std::vector<std::pair<std::string, std::string>>& headers = {});
  // Sends one chunk (beginning with 200 if begin() was not called). An empty chunk sends nothing:
  // on the wire it would end the stream. False once the client is gone or the server is stopping;
  // the handler should then return.
  bool write(std::string_view chunk);
  // An ordinary, complete response instead of a stream, for errors found before streaming (an
  // unknown partition). Only before begin(); returns false if it could not be sent.
  bool respond(const HttpResponse& response);
  // Sleeps up to `timeout`; returns false early when the client hangs up or the server stops.
  bool wait(std::chrono::milliseconds timeout);
  // True while the client is connected (as far as the last write or wait saw) and the server runs.
  [[nodiscard]] bool alive() const noexcept { return alive_; }
  // Readable once the server stops, for handlers that poll their own sources alongside it.
  [[nodiscard]] int cancel_fd() const noexcept { return cancel_fd_; }

  // For the server: what was sent, and ending the stream with the last chunk.
  [[nodiscard]] bool began() const noexcept { return began_; }
  [[nodiscard]] bool responded() const noexcept { return responded_; }
  [[nodiscard]] int status() const noexcept { return status_; }
  bool finish();

 private:
  bool send(std::string_view bytes);

  int fd_;
  int cancel_fd_;
  std::chrono::milliseconds write_timeout_;
  bool keep_alive_;
  bool head_only_;
  bool alive_ = true;
  bool began_ = false;
  bool responded_ = false;
  bool finished_ = false;
  int status_ = 0;
};

}  // namespace tilehv::api
