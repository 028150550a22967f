// tilectl's commands: each runs one operation of the control API through a Session, prints its
// result (a table, or the daemon's JSON with -o json) and returns the exit code (exit_codes.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tilectl/session.hpp"

namespace tilehv::tilectl {

// Policies (commands_policy.cpp). FILE is sent to the daemon as it is; JSON or YAML by its extension.
int validate_command(Session& session, const std::string& file);
int plan_command(Session& session, const std::string& file);
// Shows the plan, then asks on the terminal unless `yes`; without a terminal and without `yes` it
// refuses (kExitUsage) rather than guess.
int apply_command(Session& session, const std::string& file, bool yes);

// Partitions (commands_partitions.cpp).
int get_partitions_command(Session& session);
int describe_command(Session& session, const std::string& name);
enum class PartitionOperation { kPause, kResume, kRestart, kStop };
[[nodiscard]] std::string_view operation_name(PartitionOperation operation);  // "pause", ...
int partition_operation_command(Session& session, PartitionOperation operation, const std::string& name);
int stop_all_command(Session& session);

// Streams (commands_streams.cpp): copied to the terminal as they arrive, until the daemon ends them
// (at once unless `follow`), the output is closed (`tilectl events | head`) or the operator interrupts.
int console_command(Session& session, const std::string& name, bool follow);
int events_command(Session& session, bool follow, std::optional<std::uint64_t> since);

}  // namespace tilehv::tilectl
