// HttpRequestParser: turns the bytes of a connection into HttpRequests, one at a time, with
// http_parser doing the HTTP/1.x grammar and this class enforcing the control API's limits.
// It needs no socket: the server feeds it what it reads, the fuzzer feeds it anything.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "api/http_message.hpp"

namespace tilehv::api {

struct HttpRequestLimits {
  std::size_t max_header_bytes = 16 * 1024;  // request line + headers; more is 431
  std::size_t max_body_bytes = 1024 * 1024;  // more is 413
  std::size_t max_headers = 100;             // header lines; more is 431
  std::size_t max_target_bytes = 8 * 1024;   // the request target; longer is 414
};

// Why a request was refused, as the server answers it: status, error code, message.
struct HttpRequestError {
  int status = 400;
  std::string code;
  std::string message;
};

class HttpRequestParser {
 public:
  enum class State {
    kReading,   // no complete request yet: feed more bytes
    kComplete,  // take_request() hands it out
    kFailed,    // error() says why; the byte stream has lost its framing, so the connection must close
  };

  explicit HttpRequestParser(const HttpRequestLimits& limits);
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  // Parses from `bytes` and returns how many it consumed. Stops after one complete request: the
  // bytes after it (a pipelined request) are the caller's to feed again after take_request().
  std::size_t feed(std::string_view bytes);

  [[nodiscard]] State state() const noexcept { return state_; }
  // Some bytes of a request arrived (a request line began) and it is not complete yet.
  [[nodiscard]] bool in_progress() const noexcept { return began_ && state_ == State::kReading; }
  [[nodiscard]] const HttpRequestError& error() const noexcept { return error_; }
  // True once, when the headers of a request with "Expect: 100-continue" are complete and its body
  // is still to come: the server should send "100 Continue".
  [[nodiscard]] bool take_continue() noexcept;

  // The complete request, and whether the connection may carry another one after it. Resets the
  // parser for the next request. Only in state kComplete.
  HttpRequest take_request();
  [[nodiscard]] bool keep_alive() const noexcept { return keep_alive_; }

 private:
  static int on_message_begin(http_parser* parser);
  static int on_url(http_parser* parser, const char* at, std::size_t length);
  static int on_header_field(http_parser* parser, const char* at, std::size_t length);
  static int on_header_value(http_parser* parser, const char* at, std::size_t length);
  static int on_headers_complete(http_parser* parser);
  static int on_body(http_parser* parser, const char* at, std::size_t length);
  static int on_message_complete(http_parser* parser);

  int fail(int status, std::string code, std::string message);
  bool commit_header();
  bool split_target();
  void set_parser_error();

  HttpRequestLimits limits_;
  http_parser parser_{};
  http_parser_settings settings_{};
  State state_ = State::kReading;
  HttpRequestError error_;
  HttpRequest request_;
  bool began_ = false;
  bool headers_complete_ = false;
  bool continue_due_ = false;
  bool keep_alive_ = false;
  std::size_t header_bytes_ = 0;
  std::size_t header_count_ = 0;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
};

}  // namespace tilehv::api
