// Plan view: the daemon's plan ({"steps": [{partition, action, reason, changes}], "tile_changed",
// "tile_changes"}) as people read it, before an apply (what would happen) and after (what happened).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace tilehv::tilectl {

// Nothing to do: every step "unchanged" and the tile's own settings as they are.
[[nodiscard]] bool plan_is_empty(const nlohmann::json& plan);

// A table PARTITION ACTION REASON CHANGES (the changed fields), then a line for the tile's own
// changes; "no changes\n" for an empty plan.
[[nodiscard]] std::string render_plan(const nlohmann::json& plan);

// What an apply did, one line per partition it touched ("restarted b: changed: image"), then the
// tile's changes and a count by action ("applied: 1 created, 1 restarted, 2 unchanged").
[[nodiscard]] std::string render_applied(const nlohmann::json& applied);

}  // namespace tilehv::tilectl
