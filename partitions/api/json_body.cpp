// JSON request bodies.
#include "api/json_body.hpp"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

namespace tilehv::api {
namespace {

// The deepest nesting of `text`, counting brackets outside strings; stops counting past the bound.
std::size_t nesting_depth(std::string_view text) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > kMaxJsonDepth) break;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

tl::expected<nlohmann::json, HttpResponse> parse_json_body(const HttpRequest& request) {
  const std::string type = request.header("content-type");
  const std::string_view media = std::string_view(type).substr(0, type.find(';'));
  if (!type.empty() && media != "application/json") {
    return tl::unexpected(error_response(415, "unsupported_media_type",
                                         fmt::format("the body must be application/json, not '{}'", type)));
  }
  if (request.body.empty()) return tl::unexpected(error_response(400, "malformed_json", "the request body is empty"));
  if (nesting_depth(request.body) > kMaxJsonDepth) {
    return tl::unexpected(error_response(400, "malformed_json",
                                         fmt::format("the request body nests deeper than {} levels", kMaxJsonDepth)));
  }
  try {
    return nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::exception& e) {
    // Not only parse_error: a number too large for a double is an out_of_range error.
    return tl::unexpected(
        error_response(400, "malformed_json", fmt::format("the request body is not valid JSON: {}", e.what())));
  }
}

}  // namespace tilehv::api
