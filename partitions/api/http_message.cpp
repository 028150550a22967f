// HTTP message helpers: JSON and error responses, status reasons, response heads.
#include "api/http_message.hpp"

#include <http_parser.h>

#include <fmt/format.h>

namespace tilehv::api {

std::string HttpRequest::header(const std::string& name) const {
  const auto found = headers.find(name);
  return found == headers.end() ? std::string() : found->second;
}

HttpResponse json_response(int status, const nlohmann::json& value) {
  HttpResponse response;
  response.status = status;
  // Strings from requests may hold invalid UTF-8: replace it rather than throw while answering.
  response.body = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  response.body += '\n';
  return response;
}

HttpResponse error_response(int status, std::string_view code, std::string_view message) {
  return json_response(status, nlohmann::json{{"code", code}, {"message", message}});
}

std::string_view status_reason(int status) noexcept {
  switch (status) {
#define TILEHV_STATUS_REASON(num, name, text) \
  case num:                                   \
    return #text;
    HTTP_STATUS_MAP(TILEHV_STATUS_REASON)
#undef TILEHV_STATUS_REASON
    default:
      return "Unknown";
  }
}

namespace {

// A handler's header text may echo a request's words: a CR or LF in it would end the header early
// and let a request inject headers of its own (response splitting).
std::string header_text(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

}  // namespace

std::string serialize_response_head(const HttpResponse& response, bool keep_alive, bool chunked) {
  std::string head = fmt::format("HTTP/1.1 {} {}\r\n", response.status, status_reason(response.status));
  if (!response.content_type.empty()) head += fmt::format("Content-Type: {}\r\n", header_text(response.content_type));
  for (const auto& [name, value] : response.headers) {
    head += fmt::format("{}: {}\r\n", header_text(name), header_text(value));
  }
  head += chunked ? std::string("Transfer-Encoding: chunked\r\n")
                 : fmt::format("Content-Length: {}\r\n", response.body.size());
  head += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return head;
}

}  // namespace tilehv::api
