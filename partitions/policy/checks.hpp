// Semantic checks: named, stateless judgements of a whole policy (STYLE.md 13), run after loading in the
// order of the table. Each reports every finding with its evidence at the field's own line:column.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "policy/diagnostic.hpp"
#include "policy/policy.hpp"

namespace tilehv::policy {

struct Check {
  std::string_view name;  // the [name] diagnostics end with
  std::string_view what;  // one line for docs and `tilectl validate --list-checks`
  void (*run)(const Policy& policy, std::vector<Diagnostic>& findings);
};

[[nodiscard]] std::span<const Check> semantic_checks();
[[nodiscard]] const Check* find_check(std::string_view name);

// The highest MTU a partition may have: a jumbo frame, which the switch's port rings carry
// (port::PortConfig::max_message is 16384 bytes, headers included).
inline constexpr std::uint32_t kMinMtu = 68;  // RFC 791: every IPv4 host handles 68 bytes
inline constexpr std::uint32_t kMaxMtu = 9000;
// vsock ports: 0xffffffff is VMADDR_PORT_ANY and cannot be listened on by name.
inline constexpr std::uint32_t kMaxVsockPort = 0xfffffffe;

}  // namespace tilehv::policy
