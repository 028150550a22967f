// Process statistics: see proc_stats.hpp.
#include "daemon/proc_stats.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

namespace tilehv::daemon {

std::optional<ProcStats> read_proc_stats(pid_t pid) {
  std::ifstream stat_file(fmt::format("/proc/{}/stat", pid));
  std::string stat;
  if (!std::getline(stat_file, stat)) return std::nullopt;
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 2 > stat.size()) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  std::uint64_t utime = 0, stime = 0;
  // Fields 14 and 15 (utime, stime), counting the state (field 3) as the first after the name.
  for (int index = 3; index <= 15 && (fields >> field); ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) stime = std::stoull(field);
  }
  ProcStats stats;
  stats.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      stats.resident_bytes = std::stoull(line.substr(6)) * 1024;  // "VmRSS:   1234 kB"
      break;
    }
  }
  return stats;
}

}  // namespace tilehv::daemon
