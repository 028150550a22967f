// Verdict: whether a shadow has earned promotion (policy promotion criteria), failed, or must run on.
// A fault fails it at once; divergence beyond the allowed ratio fails it once enough was compared to
// judge; otherwise it passes when it has seen enough inputs for long enough within its ceilings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/shadow_spec.hpp"
#include "shadow/comparator.hpp"

namespace tilehv::shadow {

// Why a shadow cannot be trusted whatever it outputs (docs/design/shadows.md, "Faults").
struct Fault {
  std::string kind;    // guest-crash, triple-fault, internal-error, vmm-crash, hang, crash-loop, output-flood, input-overrun
  std::string detail;  // the evidence: an end report's detail, the watchdog's numbers, ...
  std::uint64_t time_ns = 0;
};

// Resource use of one side over the same span of time.
struct ResourceUse {
  std::uint64_t cpu_ns = 0;
  std::uint64_t exits = 0;
  std::uint64_t memory_bytes = 0;
};

struct Evidence {
  std::uint64_t elapsed_ms = 0;
  std::vector<Fault> faults;
  ResourceUse live;
  ResourceUse shadow;
};

struct Verdict {
  enum class State { kRunning, kPassed, kFailed };
  State state = State::kRunning;
  std::vector<std::string> reasons;  // why it failed, or what it still waits for
};

// Records of the live partition a passing shadow may still owe (in flight), plus 1% of those compared.
inline constexpr std::uint64_t kLagAllowance = 16;

[[nodiscard]] Verdict judge(const policy::PromotionCriteria& criteria, const Comparator& comparator, const Evidence& evidence);
[[nodiscard]] const char* state_name(Verdict::State state);
[[nodiscard]] nlohmann::json to_json(const Verdict& verdict);

}  // namespace tilehv::shadow
