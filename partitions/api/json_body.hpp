// JSON request bodies: parsed with a bound on nesting, or the 400/415 answer that says what is wrong.
#pragma once

#include <cstddef>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "api/http_message.hpp"

namespace tilehv::api {

// Deepest nesting of arrays and objects a request body may have; the API's documents need a few
// levels, and a bound keeps hostile input ("[[[[...") from costing stack or time.
inline constexpr std::size_t kMaxJsonDepth = 64;

// The request's body as JSON. Errors: 415 for a Content-Type other than application/json (a missing
// one is accepted), 400 for an empty body, invalid JSON (with the parser's position) or too deep nesting.
[[nodiscard]] tl::expected<nlohmann::json, HttpResponse> parse_json_body(const HttpRequest& request);

}  // namespace tilehv::api
