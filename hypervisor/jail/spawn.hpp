// Spawn: starts a program (a partition's tilehv) in fresh namespaces and its own cgroup, with only
// the descriptors it is given, outside the caller's session.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "jail/cgroup.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::jail {

// Descriptors a spawned program can be handed besides stdout and stderr.
inline constexpr std::size_t kMaxKeptFds = 64;

struct JailSpec {
  std::string name;     // the partition: its cgroup tilehv/<name> and the hostname of its UTS namespace
  bool new_net = true;  // a network namespace of its own (off for a TAP, which lives in the host's)
  CgroupLimits cgroup;
  std::vector<int> keep_fds;  // dup'ed to 3, 4, ... in this order; every other descriptor is closed
  int stdout_fd = -1;         // -1: /dev/null (stdin is always /dev/null)
  int stderr_fd = -1;
  std::vector<std::string> env;  // the program's whole environment ("KEY=VALUE"); nothing is inherited
};

// How a process ended.
struct ProcessEnd {
  bool exited = false;  // by exit(); otherwise by the signal
  int status = 0;
  int signal = 0;
};

// A spawned process: its pid (in the caller's pid namespace) and a pidfd, which the supervisor can
// poll (readable once the process ended) and which never names a recycled pid. Destroying it closes
// the pidfd only: the process keeps running (a supervisor can stop and re-adopt partitions).
class JailedProcess {
 public:
  JailedProcess(pid_t pid, util::UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] int pidfd() const noexcept { return pidfd_.get(); }
  [[nodiscard]] tl::expected<void, std::string> send_signal(int signo) const;
  // Reaps the process if it has ended; nullopt while it runs.
  [[nodiscard]] tl::expected<std::optional<ProcessEnd>, std::string> try_wait() const;
  // Blocks until the process ends and reaps it.
  [[nodiscard]] tl::expected<ProcessEnd, std::string> wait() const;

 private:
  pid_t pid_;
  util::UniqueFd pidfd_;
};

// Starts argv (argv[0] an absolute path) as pid 1 of new pid, mount, IPC and UTS namespaces (and a
// new network namespace when spec.new_net), in a new session, in the cgroup `spec.name` created
// with spec.cgroup before the program runs. No parent-death signal: the process outlives its
// supervisor. Nothing is left behind on error (the cgroup is removed, the child reaped).
[[nodiscard]] tl::expected<JailedProcess, std::string> spawn_jailed(const Cgroups& cgroups, const JailSpec& spec,
                                                                   const std::vector<std::string>& argv);

}  // namespace tilehv::jail
