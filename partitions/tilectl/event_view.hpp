// Event view: one line per event of the daemon's log ("seq time type partition message").
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace tilehv::tilectl {

// "12 2024-05-01T10:00:00Z partition.started a a started (pid 1234)", without a newline; "-" for a
// tile-wide event's partition.
[[nodiscard]] std::string render_event(const nlohmann::json& event);

}  // namespace tilehv::tilectl
