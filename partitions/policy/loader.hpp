// Policy loader: reads a tile policy (JSON or YAML, docs/policy.md), checks its shape field by field
// and then runs every semantic check (checks.hpp) on what loaded, so that one run reports every
// problem of the file, each with file:line:column.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "policy/diagnostic.hpp"
#include "policy/policy.hpp"

namespace tilehv::policy {

enum class Format { kJson, kYaml };

// Bounds on hostile input: a policy is a few KiB; these leave room without letting a file exhaust memory
// or stack.
inline constexpr std::size_t kMaxPolicyBytes = 1U << 20;
inline constexpr int kMaxNesting = 32;

// .yaml and .yml are YAML, anything else JSON.
[[nodiscard]] Format format_of(const std::filesystem::path& file);

// Diagnostics name the file as `file` is written; images and traces are found relative to its folder.
[[nodiscard]] tl::expected<Policy, std::vector<Diagnostic>> load_policy_file(const std::filesystem::path& file);

// A policy that is not (or not yet) a file, e.g. a REST request body: `display_name` names it in
// diagnostics, `base_dir` is where its relative paths start.
[[nodiscard]] tl::expected<Policy, std::vector<Diagnostic>> load_policy_text(std::string_view text,
                                                                             std::string_view display_name,
                                                                             const std::filesystem::path& base_dir,
                                                                             Format format);

}  // namespace tilehv::policy
