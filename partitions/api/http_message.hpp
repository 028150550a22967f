// HTTP message: the request a handler sees and the response it returns, with the JSON helpers every
// route of the control API uses.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tilehv::api {

struct HttpRequest {
  std::string method;  // upper case, as sent: "GET", "POST"
  std::string target;  // the request target as sent: "/v1/partitions/a%20b?watch=1"
  std::string path;    // the target's path, still percent-encoded (a decoded "/" would be ambiguous)
  std::map<std::string, std::string> query;    // decoded names and values
  std::map<std::string, std::string> headers;  // lower-case names; repeated headers joined with ", "
  std::string body;
  std::map<std::string, std::string> params;  // decoded path segments named by the route pattern

  // The header's value, or an empty string when absent. `name` must be lower case.
  [[nodiscard]] std::string header(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, sent as given
};

// A response whose body is `value` serialized (one line, then a newline so that shells print it well).
[[nodiscard]] HttpResponse json_response(int status, const nlohmann::json& value);

// An error response: body {"code": code, "message": message}. `code` is a stable machine-readable
// word ("not_found", "body_too_large"); `message` says what was wrong in words a person can act on.
[[nodiscard]] HttpResponse error_response(int status, std::string_view code, std::string_view message);

// The reason phrase of a status code ("Not Found"), "Unknown" for codes HTTP does not define.
[[nodiscard]] std::string_view status_reason(int status) noexcept;

// The status line and headers of `response` (without the body), ending with the blank line.
// `keep_alive` decides the Connection header; the length is the body's size, or with `chunked` the
// body follows in chunked transfer coding.
[[nodiscard]] std::string serialize_response_head(const HttpResponse& response, bool keep_alive, bool chunked = false);

}  // namespace tilehv::api
