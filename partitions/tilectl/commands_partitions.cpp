// Partition commands: list, describe, and the operator's operations on one partition or all.
#include <chrono>

#include <fmt/format.h>

#include "tilectl/commands.hpp"
#include "tilectl/partition_view.hpp"
#include "tilectl/percent_encoding.hpp"

namespace tilehv::tilectl {
namespace {

// A restart stops the VMM (with its grace period) and waits until the new one answers; stopping every
// partition takes a grace period each. The daemon's own bounds are seconds; these leave it room.
constexpr auto kOperationTimeout = std::chrono::minutes(2);
constexpr auto kStopAllTimeout = std::chrono::minutes(10);

std::string partition_path(const std::string& name) { return "/v1/partitions/" + percent_encode(name); }

std::string_view past_tense(PartitionOperation operation) {
  switch (operation) {
    case PartitionOperation::kPause: return "paused";
    case PartitionOperation::kResume: return "resumed";
    case PartitionOperation::kRestart: return "restarted";
    case PartitionOperation::kStop: return "stopped";
  }
  return "?";
}

}  // namespace

std::string_view operation_name(PartitionOperation operation) {
  switch (operation) {
    case PartitionOperation::kPause: return "pause";
    case PartitionOperation::kResume: return "resume";
    case PartitionOperation::kRestart: return "restart";
    case PartitionOperation::kStop: return "stop";
  }
  return "?";
}

int get_partitions_command(Session& session) {
  auto list = session.call("GET", "/v1/partitions");
  if (!list) return list.error();
  if (session.json()) {
    session.print_json(*list);
  } else {
    session.print(render_partition_table(*list));
  }
  return kExitOk;
}

int describe_command(Session& session, const std::string& name) {
  auto description = session.call("GET", partition_path(name));
  if (!description) return description.error();
  if (session.json()) {
    session.print_json(*description);
  } else {
    session.print(render_description(*description));
  }
  return kExitOk;
}

int partition_operation_command(Session& session, PartitionOperation operation, const std::string& name) {
  const std::string target = fmt::format("{}/{}", partition_path(name), operation_name(operation));
  auto view = session.call("POST", target, {}, "application/json", kOperationTimeout);
  if (!view) return view.error();
  if (session.json()) {
    session.print_json(*view);
  } else {
    session.print(render_operation_result(past_tense(operation), *view));
  }
  return kExitOk;
}

int stop_all_command(Session& session) {
  auto views = session.call("POST", "/v1/partitions/stop", {}, "application/json", kStopAllTimeout);
  if (!views) return views.error();
  if (session.json()) {
    session.print_json(*views);
    return kExitOk;
  }
  if (!views->is_array() || views->empty()) {
    session.print("no partitions to stop\n");
    return kExitOk;
  }
  for (const auto& view : *views) session.print(render_operation_result("stopped", view));
  return kExitOk;
}

}  // namespace tilehv::tilectl
