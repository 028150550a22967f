// Partition view: the daemon's partition objects (GET /v1/partitions, /v1/partitions/{name}) as a
// table, as a description, and as the one line an operation (pause, stop, ...) answers with.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tilehv::tilectl {

// NAME STATE PID VCPUS MEMORY RESTARTS UPTIME, in human units; "no partitions\n" for an empty list.
[[nodiscard]] std::string render_partition_table(const nlohmann::json& partitions);

// "Key:  value" lines: the view's fields, the VMM's status, how the last run ended, and the counters
// of the partition's devices (network port, channels, sensors).
[[nodiscard]] std::string render_description(const nlohmann::json& description);

// How a run ended, on one line: "triple-fault (exit status 103, guest value 0): detail".
[[nodiscard]] std::string describe_end(const nlohmann::json& end);

// "paused a (pid 1234)", "stopped b": `verb` and the partition's name, state and pid.
[[nodiscard]] std::string render_operation_result(std::string_view verb, const nlohmann::json& view);

}  // namespace tilehv::tilectl
