// HttpResponseParser: http_parser callbacks for responses.
#include "api/http_response_parser.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace tilehv::api {
namespace {

HttpResponseParser& self(http_parser* parser) { return *static_cast<HttpResponseParser*>(parser->data); }

}  // namespace

HttpResponseParser::HttpResponseParser(std::size_t max_body_bytes, ChunkSink sink, bool head_request)
    : max_body_bytes_(max_body_bytes), sink_(std::move(sink)), head_request_(head_request) {
  http_parser_init(&parser_, HTTP_RESPONSE);
  http_parser_settings_init(&settings_);
  settings_.on_header_field = &HttpResponseParser::on_header_field;
  settings_.on_header_value = &HttpResponseParser::on_header_value;
  settings_.on_headers_complete = &HttpResponseParser::on_headers_complete;
  settings_.on_body = &HttpResponseParser::on_body;
  settings_.on_chunk_complete = &HttpResponseParser::on_chunk_complete;
  settings_.on_message_complete = &HttpResponseParser::on_message_complete;
}

bool HttpResponseParser::feed(std::string_view bytes) {
  if (complete_ || stopped_ || !error_.empty()) return error_.empty() && !stopped_;
  parser_.data = this;
  const std::size_t parsed = http_parser_execute(&parser_, &settings_, bytes.data(), bytes.size());
  if (stopped_ || !error_.empty()) return false;
  if (HTTP_PARSER_ERRNO(&parser_) != HPE_OK) {
    if (HTTP_PARSER_ERRNO(&parser_) == HPE_PAUSED) return true;  // complete; the rest is not ours
    error_ = fmt::format("malformed response: {}", http_errno_description(HTTP_PARSER_ERRNO(&parser_)));
    return false;
  }
  (void)parsed;
  return true;
}

bool HttpResponseParser::finish() {
  if (complete_) return true;
  parser_.data = this;
  http_parser_execute(&parser_, &settings_, nullptr, 0);
  if (!complete_ && error_.empty()) {
    error_ = headers_complete_ ? "the server closed the connection in the middle of the response"
                               : "the server closed the connection without answering";
  }
  return complete_;
}

int HttpResponseParser::fail(std::string message) {
  error_ = std::move(message);
  return -1;
}

void HttpResponseParser::commit_header() {
  std::string name = std::exchange(field_, {});
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto [it, inserted] = headers_.try_emplace(name, value_);
  if (!inserted) it->second += ", " + value_;
  value_.clear();
  in_value_ = false;
}

int HttpResponseParser::on_header_field(http_parser* parser, const char* at, std::size_t length) {
  auto& me = self(parser);
  if (me.in_value_) me.commit_header();
  if (me.headers_.size() > 100) return me.fail("the response has more than 100 headers");
  me.field_.append(at, length);
  return 0;
}

int HttpResponseParser::on_header_value(http_parser* parser, const char* at, std::size_t length) {
  auto& me = self(parser);
  me.in_value_ = true;
  me.value_.append(at, length);
  return 0;
}

int HttpResponseParser::on_headers_complete(http_parser* parser) {
  auto& me = self(parser);
  if (me.in_value_) me.commit_header();
  me.headers_complete_ = true;
  me.response_.status = static_cast<int>(parser->status_code);
  me.chunked_ = (parser->flags & F_CHUNKED) != 0;
  for (auto& [name, value] : me.headers_) {
    if (name == "content-type") {
      me.response_.content_type = value;
    } else if (name != "content-length" && name != "transfer-encoding" && name != "connection") {
      me.response_.headers.emplace_back(name, value);
    }
  }
  if (!me.chunked_ && (parser->flags & F_CONTENTLENGTH) != 0 && parser->content_length > me.max_body_bytes_ &&
      !me.streaming()) {
    return me.fail(fmt::format("the response body of {} bytes exceeds the limit of {} bytes", parser->content_length,
                               me.max_body_bytes_));
  }
  // 1 tells http_parser that this response has no body (RFC 9110 section 9.3.2: HEAD).
  return me.head_request_ ? 1 : 0;
}

int HttpResponseParser::on_body(http_parser* parser, const char* at, std::size_t length) {
  auto& me = self(parser);
  const std::string_view piece(at, length);
  if (me.streaming() && !me.chunked_) {
    if (!me.sink_(piece)) me.stopped_ = true;
    return me.stopped_ ? -1 : 0;
  }
  std::string& into = me.streaming() ? me.chunk_ : me.response_.body;
  if (into.size() + length > me.max_body_bytes_) {
    return me.fail(fmt::format("the response {} exceeds the limit of {} bytes", me.streaming() ? "chunk" : "body",
                               me.max_body_bytes_));
  }
  into.append(piece);
  return 0;
}

int HttpResponseParser::on_chunk_complete(http_parser* parser) {
  auto& me = self(parser);
  if (!me.streaming() || me.chunk_.empty()) return 0;
  const bool more = me.sink_(me.chunk_);
  me.chunk_.clear();
  if (!more) me.stopped_ = true;
  return more ? 0 : -1;
}

int HttpResponseParser::on_message_complete(http_parser* parser) {
  auto& me = self(parser);
  me.complete_ = true;
  me.keep_alive_ = http_should_keep_alive(parser) != 0;
  http_parser_pause(parser, 1);
  return 0;
}

}  // namespace tilehv::api
