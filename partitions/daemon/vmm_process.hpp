// VmmProcess: one partition's tilehv process as the daemon sees it: started by it (a child, possibly
// jailed) or re-adopted after the daemon restarted (not a child: only its pidfd, its control socket
// and its end report tell about it).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "util/unique_fd.hpp"

namespace tilehv::daemon {

// The files of one partition's VMM in the state directory.
struct VmmFiles {
  std::filesystem::path dir;
  [[nodiscard]] std::filesystem::path control() const { return dir / "control.sock"; }
  [[nodiscard]] std::filesystem::path end_report() const { return dir / "end.json"; }
  [[nodiscard]] std::filesystem::path console() const { return dir / "console.log"; }
  [[nodiscard]] std::filesystem::path log() const { return dir / "vmm.log"; }
};

// How a VMM process is created: plainly (development, --no-jail) or inside the jail.
struct SpawnRequest {
  std::string name;
  std::vector<std::string> argv;
  // For the jail: the partition's own ids, its cgroup limits, and whether it keeps the host's
  // network namespace (only a TAP device needs it).
  uid_t uid = 0;
  gid_t gid = 0;
  std::set<std::uint32_t> cpus;
  std::uint32_t cpu_weight = 100;
  std::uint64_t memory_limit_bytes = 0;
  std::uint64_t pids_limit = 0;
  bool host_network = false;
  util::UniqueFd plane_link;  // becomes fd 3 in the VMM
  util::UniqueFd log;         // the VMM's stderr (its stdout goes nowhere: the console has its file)
};
struct SpawnedProcess {
  pid_t pid = 0;
  util::UniqueFd pidfd;
};
using Spawner = std::function<tl::expected<SpawnedProcess, std::string>(SpawnRequest&)>;
// fork+exec without a jail, in a session of its own so the daemon's terminal signals miss it.
[[nodiscard]] tl::expected<SpawnedProcess, std::string> spawn_unjailed(SpawnRequest& request);

// One request on a VMM's control socket ("status", "pause", "resume", "stop", "relink"): its JSON
// answer, or what went wrong (no socket, no answer in time, a refusal). `pass_fd`, if not -1, travels
// with the request (SCM_RIGHTS): the new plane link of a relink.
[[nodiscard]] tl::expected<nlohmann::json, std::string> control_request(const std::filesystem::path& socket,
                                                                        const std::string& request,
                                                                        std::chrono::milliseconds timeout,
                                                                        int pass_fd = -1);

// /proc/PID/stat's start time (clock ticks since boot); nullopt if the process does not exist.
[[nodiscard]] std::optional<std::uint64_t> process_start_ticks(pid_t pid);

class VmmProcess {
 public:
  [[nodiscard]] static tl::expected<VmmProcess, std::string> start(SpawnRequest request, const Spawner& spawner,
                                                                   VmmFiles files);
  // A VMM that outlived a daemon: `pid` must still be the process started at `start_ticks`.
  [[nodiscard]] static tl::expected<VmmProcess, std::string> adopt(pid_t pid, std::uint64_t start_ticks, VmmFiles files);

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  [[nodiscard]] int pidfd() const noexcept { return pidfd_.get(); }
  [[nodiscard]] std::uint64_t start_ticks() const noexcept { return start_ticks_; }
  [[nodiscard]] const VmmFiles& files() const noexcept { return files_; }

  [[nodiscard]] tl::expected<nlohmann::json, std::string> control(const std::string& request,
                                                                  std::chrono::milliseconds timeout) const {
    return control_request(files_.control(), request, timeout);
  }
  // Waits until the VMM answers "status" (it has made its VM and devices); an error if it ended
  // first (with what its log says) or did not answer in time.
  [[nodiscard]] tl::expected<void, std::string> wait_ready(std::chrono::milliseconds timeout) const;
  [[nodiscard]] bool exited() const;
  // After the process ended: why, from its end report or (for a child) its wait status.
  [[nodiscard]] nlohmann::json collect_end();
  // Asks the VMM to stop, then SIGKILL after `grace`; returns once it is gone.
  void stop(std::chrono::milliseconds grace);
  void kill() const;

 private:
  VmmProcess(pid_t pid, util::UniqueFd pidfd, std::uint64_t start_ticks, VmmFiles files, bool child)
      : pid_(pid), pidfd_(std::move(pidfd)), start_ticks_(start_ticks), files_(std::move(files)), child_(child) {}

  pid_t pid_;
  util::UniqueFd pidfd_;
  std::uint64_t start_ticks_;
  VmmFiles files_;
  bool child_;
  bool reaped_ = false;
  std::optional<int> wait_status_;
};

}  // namespace tilehv::daemon
