// Percent decoding (RFC 3986 section 2.1) of path segments and query strings of request targets.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace tilehv::api {

// Most query parameters a request may carry; the control API's routes take a handful.
inline constexpr std::size_t kMaxQueryParameters = 64;

// Decodes "%XX" escapes; with `plus_is_space` (query strings, HTML form style) also '+' as ' '.
// Errors name the problem: a truncated or non-hex escape, or an escaped NUL byte (names with NUL
// bytes would be cut short by every C interface they reach).
[[nodiscard]] tl::expected<std::string, std::string> percent_decode(std::string_view text, bool plus_is_space);

// Splits "a=1&b=x%20y" into decoded names and values. A parameter without '=' has an empty value;
// empty pieces ("a=1&&b=2") are skipped. A name given twice is an error, not a silent choice.
[[nodiscard]] tl::expected<std::map<std::string, std::string>, std::string> parse_query(std::string_view query);

}  // namespace tilehv::api
