// tilectl's commands: each runs one operation of the control API through a Session, prints its
// result (a table, or the daemon's JSON with -o json) and returns the exit code (exit_codes.hpp).
#pragma once

#include <chrono>
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

// Shadows (commands_shadows.cpp). Without a name, status lists every shadow.
int shadow_status_command(Session& session, const std::string& name);
// format: text, json or html (a page to save: `tilectl shadow report NAME --format html > report.html`).
int shadow_report_command(Session& session, const std::string& name, const std::string& format);
// decision: promote, rollback, abort or release.
int shadow_decision_command(Session& session, const std::string& decision, const std::string& name);
struct TryOptions {
  std::string live;
  std::string candidate;
  std::string generator;  // run first (sh -c) with $TILEHV_CANDIDATE; it must write the image
  std::string action = "auto-promote";
  std::optional<std::uint64_t> min_inputs;
  std::optional<std::uint64_t> min_duration_ms;
  std::optional<double> max_divergence;
  bool fresh = false;  // restart the live partition so both kernels start from its first input
  std::chrono::milliseconds timeout = std::chrono::minutes(10);
};
// Stages the candidate, shadows it, waits for the verdict and prints it with the report's path:
// exit 0 if promoted (or passed, with --action report), 1 if rejected.
int shadow_try_command(Session& session, const TryOptions& options);

}  // namespace tilehv::tilectl
