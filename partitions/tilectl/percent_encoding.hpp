// Percent encoding (RFC 3986 section 2.1) of the values tilectl puts into request targets: partition
// names in paths and file names and folders in query strings.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tilehv::tilectl {

// Every byte but the unreserved characters (ALPHA, DIGIT, "-", ".", "_", "~") as "%XX": a "/" in a
// name stays inside its path segment, and "&", "=", "+" and "#" stay inside their query value.
[[nodiscard]] std::string percent_encode(std::string_view text);

// "?a=1&b=x%20y" for the given names and values, in order; empty for no parameters.
[[nodiscard]] std::string query_string(const std::vector<std::pair<std::string, std::string>>& parameters);

}  // namespace tilehv::tilectl
