// HttpResponseParser: the client's side of http_parser: a response's status, headers and body, or
// for a stream its chunks handed out one whole chunk at a time as they arrive.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "api/http_message.hpp"

namespace tilehv::api {

class HttpResponseParser {
 public:
  using ChunkSink = std::function<bool(std::string_view chunk)>;

  // `max_body_bytes` bounds a buffered body and any one chunk of a stream. With `sink`, a 2xx
  // response's body goes to it (one call per chunk of a chunked body) instead of being kept; the
  // sink returns false to stop. `head_request`: the response to HEAD has no body whatever it says.
  HttpResponseParser(std::size_t max_body_bytes, ChunkSink sink, bool head_request);
  HttpResponseParser(const HttpResponseParser&) = delete;
  HttpResponseParser& operator=(const HttpResponseParser&) = delete;

  // Parses `bytes`; false on a malformed response (error() says why) or when the sink said stop.
  bool feed(std::string_view bytes);
  // The connection ended: completes a response whose body runs to the end of the connection.
  bool finish();

  [[nodiscard]] bool headers_complete() const noexcept { return headers_complete_; }
  [[nodiscard]] bool complete() const noexcept { return complete_; }
  [[nodiscard]] bool stopped_by_sink() const noexcept { return stopped_; }
  [[nodiscard]] bool keep_alive() const noexcept { return keep_alive_; }
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  // Status, headers and (without a sink, or for a non-2xx answer) the body.
  [[nodiscard]] HttpResponse& response() noexcept { return response_; }

 private:
  static int on_header_field(http_parser* parser, const char* at, std::size_t length);
  static int on_header_value(http_parser* parser, const char* at, std::size_t length);
  static int on_headers_complete(http_parser* parser);
  static int on_body(http_parser* parser, const char* at, std::size_t length);
  static int on_chunk_complete(http_parser* parser);
  static int on_message_complete(http_parser* parser);

  void commit_header();
  bool streaming() const noexcept { return sink_ && response_.status >= 200 && response_.status < 300; }
  int fail(std::string message);

  std::size_t max_body_bytes_;
  ChunkSink sink_;
  bool head_request_;
  http_parser parser_{};
  http_parser_settings settings_{};
  HttpResponse response_;
  std::map<std::string, std::string> headers_;
  std::string field_;
  std::string value_;
  bool in_value_ = false;
  std::string chunk_;
  bool chunked_ = false;
  bool headers_complete_ = false;
  bool complete_ = false;
  bool stopped_ = false;
  bool keep_alive_ = false;
  std::string error_;
};

}  // namespace tilehv::api
