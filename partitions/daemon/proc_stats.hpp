// Process statistics from /proc, for metrics: CPU time and resident memory of a VMM process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace tilehv::daemon {

struct ProcStats {
  double cpu_seconds = 0;            // user + system, all threads
  std::uint64_t resident_bytes = 0;  // VmRSS
};

[[nodiscard]] std::optional<ProcStats> read_proc_stats(pid_t pid);

}  // namespace tilehv::daemon
