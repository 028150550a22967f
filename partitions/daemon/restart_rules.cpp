// Restart rules: see restart_rules.hpp.
#include "daemon/restart_rules.hpp"

#include <algorithm>

namespace tilehv::daemon {

bool clean_end(const nlohmann::json& end) {
  if (!end.is_object()) return false;  // no report at all is no clean end
  const std::string kind = end.value("kind", "");
  if (kind == "guest-power-off") return true;
  return kind == "guest-exit" && end.value("guest_value", 1U) == 0;
}

bool restart_wanted(const policy::Restart& restart, const nlohmann::json& end) {
  return restart.policy == policy::RestartPolicy::kAlways ||
         (restart.policy == policy::RestartPolicy::kOnFailure && !clean_end(end));
}

std::chrono::milliseconds backoff(const policy::Restart& restart, std::uint32_t failures) {
  std::uint64_t delay = restart.backoff_initial_ms;
  for (std::uint32_t i = 0; i < failures && delay < restart.backoff_max_ms; ++i) delay *= 2;
  return std::chrono::milliseconds(std::min(delay, restart.backoff_max_ms));
}

}  // namespace tilehv::daemon
