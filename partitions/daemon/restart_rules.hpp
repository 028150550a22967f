// Restart rules: whether a partition's restart policy asks for another run after an end, and how
// long to wait first. Shared by the supervisor and by the recovery of a restarted daemon.
#pragma once

#include <chrono>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "policy/policy.hpp"

namespace tilehv::daemon {

// A guest that exited with 0 or powered off ended well; every other end (see end_report.hpp) failed.
[[nodiscard]] bool clean_end(const nlohmann::json& end);
[[nodiscard]] bool restart_wanted(const policy::Restart& restart, const nlohmann::json& end);
// backoffInitialMs doubled for each earlier consecutive failure, at most backoffMaxMs.
[[nodiscard]] std::chrono::milliseconds backoff(const policy::Restart& restart, std::uint32_t failures);

}  // namespace tilehv::daemon
