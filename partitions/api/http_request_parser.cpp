// HttpRequestParser: http_parser's callbacks gather the request; the limits are checked as bytes come.
#include "api/http_request_parser.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "api/percent_decoding.hpp"

namespace tilehv::api {
namespace {

HttpRequestParser& self(http_parser* parser) { return *static_cast<HttpRequestParser*>(parser->data); }

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

HttpRequestParser::HttpRequestParser(const HttpRequestLimits& limits) : limits_(limits) {
  http_parser_init(&parser_, HTTP_REQUEST);
  http_parser_settings_init(&settings_);
  settings_.on_message_begin = &HttpRequestParser::on_message_begin;
  settings_.on_url = &HttpRequestParser::on_url;
  settings_.on_header_field = &HttpRequestParser::on_header_field;
  settings_.on_header_value = &HttpRequestParser::on_header_value;
  settings_.on_headers_complete = &HttpRequestParser::on_headers_complete;
  settings_.on_body = &HttpRequestParser::on_body;
  settings_.on_message_complete = &HttpRequestParser::on_message_complete;
}

std::size_t HttpRequestParser::feed(std::string_view bytes) {
  parser_.data = this;
  std::size_t consumed = 0;
  while (state_ == State::kReading && consumed < bytes.size()) {
    std::size_t chunk = bytes.size() - consumed;
    if (!headers_complete_) {
      // The header limit is enforced by never handing the parser more header bytes than it allows.
      const std::size_t room = limits_.max_header_bytes - std::min(header_bytes_, limits_.max_header_bytes);
      if (room == 0) {
        fail(431, "headers_too_large",
             fmt::format("request line and headers exceed {} bytes", limits_.max_header_bytes));
        break;
      }
      chunk = std::min(chunk, room);
    }
    const std::size_t parsed = http_parser_execute(&parser_, &settings_, bytes.data() + consumed, chunk);
    if (!headers_complete_) header_bytes_ += parsed;
    consumed += parsed;
    if (state_ == State::kComplete || state_ == State::kFailed) break;
    if (HTTP_PARSER_ERRNO(&parser_) != HPE_OK) {
      set_parser_error();
      break;
    }
    if (parsed < chunk) {
      // The parser stops short only on an error or a pause; neither happened.
      fail(400, "malformed_request", "the HTTP parser stopped without a reason");
      break;
    }
  }
  return consumed;
}

bool HttpRequestParser::take_continue() noexcept { return std::exchange(continue_due_, false); }

HttpRequest HttpRequestParser::take_request() {
  HttpRequest out = std::move(request_);
  request_ = HttpRequest();
  state_ = State::kReading;
  began_ = false;
  headers_complete_ = false;
  continue_due_ = false;
  header_bytes_ = 0;
  header_count_ = 0;
  field_.clear();
  value_.clear();
  in_value_ = false;
  // on_message_complete paused the parser so that a pipelined request waits for this one.
  http_parser_pause(&parser_, 0);
  return out;
}

int HttpRequestParser::fail(int status, std::string code, std::string message) {
  if (state_ != State::kFailed) {
    state_ = State::kFailed;
    error_ = HttpRequestError{status, std::move(code), std::move(message)};
  }
  return -1;  // any non-zero return stops http_parser
}

void HttpRequestParser::set_parser_error() {
  const auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err == HPE_HEADER_OVERFLOW) {
    fail(431, "headers_too_large", "request headers are too large");
  } else if (err == HPE_INVALID_METHOD) {
    fail(400, "malformed_request", "malformed request: unknown HTTP method");
  } else {
    fail(400, "malformed_request", fmt::format("malformed request: {}", http_errno_description(err)));
  }
}

int HttpRequestParser::on_message_begin(http_parser* parser) {
  self(parser).began_ = true;
  return 0;
}

int HttpRequestParser::on_url(http_parser* parser, const char* at, std::size_t length) {
  auto& me = self(parser);
  if (me.request_.target.size() + length > me.limits_.max_target_bytes) {
    return me.fail(414, "target_too_long", fmt::format("request target exceeds {} bytes", me.limits_.max_target_bytes));
  }
  me.request_.target.append(at, length);
  return 0;
}

int HttpRequestParser::on_header_field(http_parser* parser, const char* at, std::size_t length) {
  auto& me = self(parser);
  if (me.in_value_ && !me.commit_header()) return -1;
  me.field_.append(at, length);
  return 0;
}

int HttpRequestParser::on_header_value(http_parser* parser, const char* at, std::size_t length) {
  auto& me = self(parser);
  me.in_value_ = true;
  me.value_.append(at, length);
  return 0;
}

bool HttpRequestParser::commit_header() {
  if (++header_count_ > limits_.max_headers) {
    fail(431, "headers_too_large", fmt::format("more than {} header lines", limits_.max_headers));
    return false;
  }
  auto name = lower(std::exchange(field_, {}));
  auto [it, inserted] = request_.headers.try_emplace(std::move(name), value_);
  // RFC 9110 section 5.3: repeated fields mean the comma-separated list of their values.
  if (!inserted) it->second += ", " + value_;
  value_.clear();
  in_value_ = false;
  return true;
}

bool HttpRequestParser::split_target() {
  http_parser_url url{};
  http_parser_url_init(&url);
  const auto& target = request_.target;
  if (http_parser_parse_url(target.data(), target.size(), 0, &url) != 0 || (url.field_set & (1U << UF_PATH)) == 0) {
    fail(400, "malformed_target", fmt::format("malformed request target '{}'", target));
    return false;
  }
  const auto field = [&](http_parser_url_fields which) {
    return std::string_view(target).substr(url.field_data[which].off, url.field_data[which].len);
  };
  request_.path = std::string(field(UF_PATH));
  if (request_.path.front() != '/') {
    fail(400, "malformed_target", fmt::format("request target '{}' is not a path", target));
    return false;
  }
  if ((url.field_set & (1U << UF_QUERY)) != 0) {
    auto query = parse_query(field(UF_QUERY));
    if (!query) {
      fail(400, "malformed_query", query.error());
      return false;
    }
    request_.query = std::move(*query);
  }
  return true;
}

int HttpRequestParser::on_headers_complete(http_parser* parser) {
  auto& me = self(parser);
  me.headers_complete_ = true;
  if (me.in_value_ && !me.commit_header()) return -1;
  if (parser->method == HTTP_CONNECT) return me.fail(400, "malformed_request", "CONNECT is not supported");
  me.request_.method = http_method_str(static_cast<http_method>(parser->method));
  if (!me.split_target()) return -1;
  if ((parser->flags & F_CHUNKED) != 0) {
    return me.fail(411, "length_required", "chunked request bodies are not accepted: send Content-Length");
  }
  const bool has_length = (parser->flags & F_CONTENTLENGTH) != 0;
  if (has_length && parser->content_length > me.limits_.max_body_bytes) {
    return me.fail(413, "body_too_large", fmt::format("request body of {} bytes exceeds the limit of {} bytes",
                                                      parser->content_length, me.limits_.max_body_bytes));
  }
  if (has_length && parser->content_length > 0) {
    me.request_.body.reserve(static_cast<std::size_t>(parser->content_length));
    me.continue_due_ = lower(me.request_.header("expect")) == "100-continue";
  }
  return 0;
}

int HttpRequestParser::on_body(http_parser* parser, const char* at, std::size_t length) {
  auto& me = self(parser);
  me.continue_due_ = false;  // the client did not wait for it
  if (me.request_.body.size() + length > me.limits_.max_body_bytes) {
    return me.fail(413, "body_too_large",
                   fmt::format("request body exceeds the limit of {} bytes", me.limits_.max_body_bytes));
  }
  me.request_.body.append(at, length);
  return 0;
}

int HttpRequestParser::on_message_complete(http_parser* parser) {
  auto& me = self(parser);
  me.state_ = State::kComplete;
  me.continue_due_ = false;
  // An upgraded connection (an Upgrade header) stops speaking HTTP after this request: close it.
  me.keep_alive_ = http_should_keep_alive(parser) != 0 && parser->upgrade == 0;
  http_parser_pause(parser, 1);
  return 0;
}

}  // namespace tilehv::api
