// Cgroups: one control group per partition (tilehv/<name>) with its CPU, memory and task limits, on
// whichever cgroup version the host runs (v2 unified, or v1's separate hierarchies).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace tilehv::jail {

struct CgroupLimits {
  std::set<std::uint32_t> cpus;   // cpuset pinning; empty: every CPU of the parent group
  std::uint32_t cpu_weight = 100; // 1..10000 (v2 cpu.weight; v1 cpu.shares = weight * 1024 / 100)
  std::optional<std::uint64_t> cpu_quota_us;  // CPU time per 100 ms period; nullopt: no quota
  std::uint64_t memory_bytes = 0;  // required; the kernel rounds it down to whole pages
  std::uint64_t pids = 0;          // tasks (processes and threads); required
  friend bool operator==(const CgroupLimits&, const CgroupLimits&) = default;
};

enum class CgroupVersion { kV1, kV2 };

// Checks limits before anything is written: named ranges, so a bad request changes nothing.
[[nodiscard]] tl::expected<void, std::string> check_limits(const CgroupLimits& limits);
// A partition's name becomes a directory name: 1-64 characters of [A-Za-z0-9_.-], not "." or "..".
[[nodiscard]] tl::expected<void, std::string> check_group_name(std::string_view name);

class Cgroups {
 public:
  // The controllers every partition's group gets.
  static constexpr std::string_view kControllers[] = {"cpu", "cpuset", "memory", "pids"};

  // Finds the host's cgroup version under `mount_root` (v2 when it holds cgroup.controllers, else v1
  // with one hierarchy per controller, e.g. mount_root/cpu). Groups are made under `parent`/tilehv, a
  // path inside each hierarchy; nullopt: the calling process's own group (from /proc/self/cgroup).
  [[nodiscard]] static tl::expected<Cgroups, std::string> open(std::optional<std::string> parent = std::nullopt,
                                                             const std::string& mount_root = "/sys/fs/cgroup");

  [[nodiscard]] CgroupVersion version() const noexcept { return version_; }
  // Creates (or takes over an empty leftover) tilehv/<name> and writes its limits.
  [[nodiscard]] tl::expected<void, std::string> create(const std::string& name, const CgroupLimits& limits) const;
  [[nodiscard]] tl::expected<void, std::string> update_limits(const std::string& name, const CgroupLimits& limits) const;
  [[nodiscard]] tl::expected<CgroupLimits, std::string> read_limits(const std::string& name) const;
  // Moves the process (all its threads) into the group.
  [[nodiscard]] tl::expected<void, std::string> add_process(const std::string& name, pid_t pid) const;
  // Removes the group once its processes have ended; a group that does not exist is not an error.
  [[nodiscard]] tl::expected<void, std::string> remove(const std::string& name) const;
  // The group's directory in the hierarchy of `controller` (v2: the one directory for all).
  [[nodiscard]] std::string group_dir(std::string_view controller, const std::string& name) const;

 private:
  Cgroups(CgroupVersion version, std::map<std::string, std::string, std::less<>> bases)
      : version_(version), bases_(std::move(bases)) {}
  [[nodiscard]] tl::expected<void, std::string> prepare_bases() const;
  [[nodiscard]] tl::expected<void, std::string> write_limits(const std::string& name, const CgroupLimits& limits) const;

  CgroupVersion version_;
  // Controller -> the tilehv/ directory groups are made in (v2: the key "" only).
  std::map<std::string, std::string, std::less<>> bases_;
};

}  // namespace tilehv::jail
