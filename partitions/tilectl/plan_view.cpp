// Plan view: tables and summaries of plans.
#include "tilectl/plan_view.hpp"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "tilectl/json_fields.hpp"
#include "tilectl/table.hpp"

namespace tilehv::tilectl {
namespace {

// The steps, or an empty array when the answer has none (or not as an array).
const nlohmann::json& steps_of(const nlohmann::json& plan) {
  static const nlohmann::json kNone = nlohmann::json::array();
  const nlohmann::json& steps = field(plan, "steps");
  return steps.is_array() ? steps : kNone;
}

// "a, b, c" from an array of strings; other elements are skipped.
std::string joined(const nlohmann::json& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (const auto& item : list) {
    if (!item.is_string()) continue;
    if (!out.empty()) out += ", ";
    out += item.get<std::string>();
  }
  return out;
}

bool tile_changed(const nlohmann::json& plan) {
  const nlohmann::json& changed = field(plan, "tile_changed");
  return changed.is_boolean() && changed.get<bool>();
}

std::string tile_line(const nlohmann::json& plan, std::string_view verb) {
  if (!tile_changed(plan)) return {};
  const std::string changes = joined(field(plan, "tile_changes"));
  return fmt::format("tile: {}{}\n", verb, changes.empty() ? "" : ": " + printable(changes));
}

// The action's past tense for what an apply did.
std::string_view done(std::string_view action) {
  if (action == "create") return "created";
  if (action == "update") return "updated in place";
  if (action == "restart") return "restarted";
  if (action == "destroy") return "destroyed";
  if (action == "unchanged") return "unchanged";
  return action;
}

}  // namespace

bool plan_is_empty(const nlohmann::json& plan) {
  if (tile_changed(plan)) return false;
  for (const auto& step : steps_of(plan)) {
    if (text_field(step, "action") != "unchanged") return false;
  }
  return true;
}

std::string render_plan(const nlohmann::json& plan) {
  if (plan_is_empty(plan)) return "no changes\n";
  Table table({"PARTITION", "ACTION", "REASON", "CHANGES"});
  for (const auto& step : steps_of(plan)) {
    const std::string changes = joined(field(step, "changes"));
    const std::string reason = text_field(step, "reason", "");
    table.add_row({text_field(step, "partition"), text_field(step, "action"), reason.empty() ? "-" : reason,
                   changes.empty() ? "-" : changes});
  }
  return (table.empty() ? std::string() : table.render()) + tile_line(plan, "settings change");
}

std::string render_applied(const nlohmann::json& applied) {
  std::string out;
  // Counted in the order the daemon carries the actions out; anything else it may report comes last.
  std::vector<std::pair<std::string, int>> counts{{"create", 0}, {"update", 0}, {"restart", 0}, {"destroy", 0}, {"unchanged", 0}};
  for (const auto& step : steps_of(applied)) {
    const std::string action = text_field(step, "action");
    auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == action; });
    if (it == counts.end()) it = counts.insert(counts.end(), {action, 0});
    ++it->second;
    if (action == "unchanged") continue;
    const std::string reason = text_field(step, "reason", "");
    out += printable(fmt::format("{} {}{}", done(action), text_field(step, "partition"), reason.empty() ? "" : ": " + reason));
    out += '\n';
  }
  out += tile_line(applied, "settings changed");
  std::string summary;
  for (const auto& [action, count] : counts) {
    if (count == 0) continue;
    summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", count, done(action));
  }
  out += summary.empty() ? "applied: no partitions\n" : "applied: " + printable(summary) + "\n";
  return out;
}

}  // namespace tilehv::tilectl
