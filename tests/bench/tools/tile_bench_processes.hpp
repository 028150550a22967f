// The processes the tile benchmark starts and watches: a real tilehvd on its own state directory,
// bare `tilehv run` VMMs for the floor, and what /proc says about any of them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/http_client.hpp"

namespace tilehv::bench {

// A process as /proc showed it when it was learnt: a recycled pid is never mistaken for it.
struct WatchedProcess {
  pid_t pid = 0;
  std::uint64_t start_ticks = 0;
};

[[nodiscard]] std::optional<WatchedProcess> watch(pid_t pid);
// Gone: no such process, another process under that pid, or a zombie.
[[nodiscard]] bool gone(const WatchedProcess& p);
// user + system time of every thread of the process, in clock ticks; nullopt once it is gone.
[[nodiscard]] std::optional<std::uint64_t> cpu_ticks(const WatchedProcess& p);
// The CPU time of every live thread of the process in nanoseconds (the scheduler's own account, from
// /proc/PID/task/TID/schedstat: exact where clock ticks only sample); nullopt once it is gone.
[[nodiscard]] std::optional<std::uint64_t> cpu_ns(const WatchedProcess& p);
// Waits until every process is gone; SIGKILLs (by pid) and reports those left after `limit`.
std::vector<pid_t> wait_gone(const std::vector<WatchedProcess>& processes, std::chrono::milliseconds limit);
// Reaps this process's zombie children: as a subreaper it inherits the VMMs whose parent ended.
void reap_zombie_children();

// A tilehvd started on `dir`/state with its socket at `dir`/api.sock; jailed if asked and run as root.
class Daemon {
 public:
  Daemon(std::string tilehvd, std::string tilehv, std::filesystem::path dir, bool jailed = true);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Starts it and waits until its API answers.
  [[nodiscard]] bool start();
  // Stops every partition, checks their VMMs are gone, ends the daemon. Returns what stopping the
  // partitions took (ms), or nullopt if something had to be killed.
  std::optional<double> shut_down();

  [[nodiscard]] tl::expected<api::HttpResponse, std::string> call(const std::string& method, const std::string& target,
                                                                  const std::string& body = {},
                                                                  std::chrono::milliseconds timeout = std::chrono::seconds(600));
  // Every partition of GET /v1/partitions.
  [[nodiscard]] nlohmann::json partitions();
  [[nodiscard]] std::vector<WatchedProcess> vmm_processes();
  [[nodiscard]] std::string socket() const { return (dir_ / "api.sock").string(); }
  [[nodiscard]] std::filesystem::path state() const { return dir_ / "state"; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] bool jailed() const;
  [[nodiscard]] std::string log_tail() const;

 private:
  std::string tilehvd_, tilehv_;
  std::filesystem::path dir_;
  bool jailed_ = true;
  pid_t pid_ = 0;
  std::vector<WatchedProcess> seen_vmms_;  // every VMM it ran, to check they are gone
};

// A bare `tilehv run --kernel KERNEL --memory MEMORY --control SOCKET`, unjailed, without a daemon.
class BareVmm {
 public:
  BareVmm(const std::string& tilehv, const std::string& kernel, const std::string& memory, const std::filesystem::path& dir);
  ~BareVmm();
  BareVmm(BareVmm&&) noexcept;
  BareVmm(const BareVmm&) = delete;
  BareVmm& operator=(const BareVmm&) = delete;
  BareVmm& operator=(BareVmm&&) = delete;

  // Whether its VMM answers "status" on its control socket (as the daemon's readiness check asks).
  [[nodiscard]] bool ready() const;
  [[nodiscard]] bool failed() const;
  [[nodiscard]] pid_t pid() const { return pid_; }

 private:
  std::filesystem::path control_;
  pid_t pid_ = 0;
};

// Whether the VMM behind a control socket answers "status" with {"ok": true ...}.
[[nodiscard]] bool control_answers(const std::filesystem::path& socket);

}  // namespace tilehv::bench
