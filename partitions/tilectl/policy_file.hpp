// PolicyFile: a policy read from the operator's file, with what the daemon needs to know about it:
// its format (from the extension), the name its diagnostics should show and the folder that relative
// image paths in it resolve against.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace tilehv::tilectl {

// The daemon accepts request bodies up to 1 MiB by default; a larger file is refused here with a
// message naming the file rather than as a 413 from the server.
inline constexpr std::size_t kMaxPolicyBytes = 1024 * 1024;

struct PolicyFile {
  std::string text;
  std::string format;    // "yaml" for .yaml/.yml, "json" otherwise
  std::string name;      // the file's name, as diagnostics show it
  std::string base_dir;  // the absolute folder of the file
};

// Reads `path`. Errors name the file and the problem (missing, a directory, too large, unreadable).
[[nodiscard]] tl::expected<PolicyFile, std::string> read_policy_file(const std::string& path);

// "/v1/policy/plan?name=...&base_dir=...&format=..." for `route`, every value percent-encoded.
[[nodiscard]] std::string policy_target(std::string_view route, const PolicyFile& policy);

// "application/yaml" or "application/json".
[[nodiscard]] std::string_view policy_content_type(const PolicyFile& policy);

}  // namespace tilehv::tilectl
