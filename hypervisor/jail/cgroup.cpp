// Cgroups: one control group per partition, on cgroup v1 or v2.
#include "jail/cgroup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "jail/cgroup_text.hpp"
#include "util/errno_text.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::jail {
namespace {

// Every cgroup file read here is a short line or list; anything longer is not one of them.
constexpr std::size_t kMaxFileBytes = 64 * 1024;
constexpr std::size_t kMaxNameLength = 64;
// The kernel refuses CFS quotas below 1 ms; above 1000 periods' worth it is no limit at all.
constexpr std::uint64_t kMinQuotaUs = 1000;
constexpr std::uint64_t kMaxQuotaUs = 1000 * kCpuPeriodUs;
constexpr std::uint64_t kMinMemoryBytes = 1024 * 1024;

tl::expected<std::string, std::string> read_file(const std::string& path) {
  util::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return tl::unexpected(fmt::format("cannot read {}: {}", path, util::errno_text(errno)));
  std::string text(kMaxFileBytes, '\0');
  std::size_t used = 0;
  for (;;) {
    const ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return tl::unexpected(fmt::format("cannot read {}: {}", path, util::errno_text(errno)));
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
    if (used == text.size()) return tl::unexpected(fmt::format("{} is longer than {} bytes", path, kMaxFileBytes));
  }
  text.resize(used);
  return text;
}

tl::expected<void, std::string> write_file(const std::string& path, std::string_view value) {
  util::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return tl::unexpected(fmt::format("cannot open {}: {}", path, util::errno_text(errno)));
  // A cgroup file takes one value per write(); a short write is a refusal.
  const ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n != static_cast<ssize_t>(value.size())) {
    return tl::unexpected(fmt::format("cannot write '{}' to {}: {}", value, path,
                                      n < 0 ? util::errno_text(errno) : std::string("short write")));
  }
  return {};
}

tl::expected<void, std::string> make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return tl::unexpected(fmt::format("cannot create {}: {}", path, util::errno_text(errno)));
  }
  return {};
}

std::string parent_of(const std::string& path) { return path.substr(0, path.find_last_of('/')); }

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// A v1 cpuset group takes no task until cpuset.cpus and cpuset.mems are set; both start empty.
tl::expected<void, std::string> inherit_cpuset(const std::string& dir, const std::set<std::uint32_t>& cpus) {
  const std::string parent = parent_of(dir);
  auto mems = read_file(parent + "/cpuset.mems");
  if (!mems) return tl::unexpected(mems.error());
  if (auto w = write_file(dir + "/cpuset.mems", *mems); !w) return w;
  if (!cpus.empty()) return write_file(dir + "/cpuset.cpus", format_cpu_list(cpus));
  auto all = read_file(parent + "/cpuset.cpus");
  if (!all) return tl::unexpected(all.error());
  return write_file(dir + "/cpuset.cpus", *all);
}

tl::expected<std::uint64_t, std::string> read_number(const std::string& path) {
  auto text = read_file(path);
  if (!text) return tl::unexpected(text.error());
  auto value = parse_limit(*text);
  if (!value) return tl::unexpected(fmt::format("{}: {}", path, value.error()));
  return value->value_or(UINT64_MAX);
}

}  // namespace

tl::expected<void, std::string> check_limits(const CgroupLimits& limits) {
  if (limits.cpu_weight < kMinCpuWeight || limits.cpu_weight > kMaxCpuWeight) {
    return tl::unexpected(fmt::format("CPU weight {} is outside {}..{}", limits.cpu_weight, kMinCpuWeight, kMaxCpuWeight));
  }
  if (limits.cpu_quota_us && (*limits.cpu_quota_us < kMinQuotaUs || *limits.cpu_quota_us > kMaxQuotaUs)) {
    return tl::unexpected(fmt::format("CPU quota {} us per {} us is outside {}..{}", *limits.cpu_quota_us, kCpuPeriodUs,
                                      kMinQuotaUs, kMaxQuotaUs));
  }
  if (limits.memory_bytes < kMinMemoryBytes) {
    return tl::unexpected(fmt::format("memory limit {} bytes is below {} bytes", limits.memory_bytes, kMinMemoryBytes));
  }
  if (limits.pids == 0) return tl::unexpected(std::string("the task limit must be at least 1"));
  if (!limits.cpus.empty() && *limits.cpus.rbegin() > kMaxCpu) {
    return tl::unexpected(fmt::format("CPU {} is above {}", *limits.cpus.rbegin(), kMaxCpu));
  }
  return {};
}

tl::expected<void, std::string> check_group_name(std::string_view name) {
  const bool valid_chars = std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
  if (name.empty() || name.size() > kMaxNameLength || !valid_chars || name == "." || name == "..") {
    return tl::unexpected(fmt::format("cgroup name '{}' must be 1-{} characters of A-Z a-z 0-9 _ . - (not . or ..)",
                                      name.substr(0, kMaxNameLength), kMaxNameLength));
  }
  return {};
}

tl::expected<Cgroups, std::string> Cgroups::open(std::optional<std::string> parent, const std::string& mount_root) {
  const CgroupVersion version = exists(mount_root + "/cgroup.controllers") ? CgroupVersion::kV2 : CgroupVersion::kV1;
  std::map<std::string, std::string> own;
  if (!parent) {
    auto text = read_file("/proc/self/cgroup");
    if (!text) return tl::unexpected(text.error());
    auto parsed = parse_proc_cgroup(*text);
    if (!parsed) return tl::unexpected("/proc/self/cgroup: " + parsed.error());
    own = std::move(*parsed);
  } else if (parent->empty() || parent->front() != '/' || parent->find("/..") != std::string::npos) {
    return tl::unexpected(fmt::format("cgroup parent '{}' must be an absolute path inside the hierarchy", *parent));
  }
  const auto under = [&](const std::string& key) -> tl::expected<std::string, std::string> {
    std::string path = parent ? *parent : std::string{};
    if (!parent) {
      const auto found = own.find(key);
      if (found == own.end()) {
        return tl::unexpected(fmt::format("/proc/self/cgroup names no {} group", key.empty() ? "cgroup v2" : key));
      }
      path = found->second;
    }
    if (path == "/") path.clear();
    return path + "/tilehv";
  };
  std::map<std::string, std::string, std::less<>> bases;
  if (version == CgroupVersion::kV2) {
    auto path = under("");
    if (!path) return tl::unexpected(path.error());
    bases[""] = mount_root + *path;
  } else {
    for (std::string_view controller : kControllers) {
      const std::string key(controller);
      if (!exists(mount_root + "/" + key + "/cgroup.procs")) {
        return tl::unexpected(fmt::format("no cgroup v1 {} hierarchy at {}/{}", key, mount_root, key));
      }
      auto path = under(key);
      if (!path) return tl::unexpected(path.error());
      bases[key] = mount_root + "/" + key + *path;
    }
  }
  return Cgroups(version, std::move(bases));
}

std::string Cgroups::group_dir(std::string_view controller, const std::string& name) const {
  const auto base = bases_.find(version_ == CgroupVersion::kV2 ? std::string_view{} : controller);
  return base == bases_.end() ? std::string{} : base->second + "/" + name;
}

tl::expected<void, std::string> Cgroups::prepare_bases() const {
  if (version_ == CgroupVersion::kV2) {
    const std::string& base = bases_.begin()->second;
    // v2 hands a controller to a group only if every ancestor enables it for its children. The
    // parent of tilehv/ must hold no process itself (v2's "no internal processes" rule).
    constexpr std::string_view kEnable = "+cpu +cpuset +memory +pids";
    if (auto w = write_file(parent_of(base) + "/cgroup.subtree_control", kEnable); !w) {
      return tl::unexpected(w.error() + " (a v2 group that delegates controllers may hold no process: "
                                        "give a parent group of its own)");
    }
    if (auto d = make_dir(base); !d) return d;
    return write_file(base + "/cgroup.subtree_control", kEnable);
  }
  for (const auto& [controller, base] : bases_) {
    if (auto d = make_dir(base); !d) return d;
    if (controller == "cpuset") {
      auto cpus = read_file(base + "/cpuset.cpus");
      if (!cpus) return tl::unexpected(cpus.error());
      if (cpus->find_first_not_of(" \n") == std::string::npos) {
        if (auto i = inherit_cpuset(base, {}); !i) return i;
      }
    }
  }
  return {};
}

tl::expected<void, std::string> Cgroups::create(const std::string& name, const CgroupLimits& limits) const {
  if (auto n = check_group_name(name); !n) return n;
  if (auto l = check_limits(limits); !l) return l;
  if (auto p = prepare_bases(); !p) return p;
  for (const auto& [controller, base] : bases_) {
    const std::string dir = base + "/" + name;
    if (auto d = make_dir(dir); !d) return d;
    if (version_ == CgroupVersion::kV1 && controller == "cpuset") {
      if (auto i = inherit_cpuset(dir, limits.cpus); !i) return i;
    }
  }
  return write_limits(name, limits);
}

tl::expected<void, std::string> Cgroups::update_limits(const std::string& name, const CgroupLimits& limits) const {
  if (auto n = check_group_name(name); !n) return n;
  if (auto l = check_limits(limits); !l) return l;
  for (std::string_view controller : kControllers) {
    if (const std::string dir = group_dir(controller, name); !exists(dir)) {
      return tl::unexpected(fmt::format("cgroup {} does not exist", dir));
    }
  }
  return write_limits(name, limits);
}

tl::expected<void, std::string> Cgroups::write_limits(const std::string& name, const CgroupLimits& limits) const {
  const auto file = [&](std::string_view controller, std::string_view leaf) {
    return group_dir(controller, name) + "/" + std::string(leaf);
  };
  if (!limits.cpus.empty()) {
    if (auto w = write_file(file("cpuset", "cpuset.cpus"), format_cpu_list(limits.cpus)); !w) return w;
  }
  if (version_ == CgroupVersion::kV2) {
    if (auto w = write_file(file("cpu", "cpu.weight"), fmt::format("{}", limits.cpu_weight)); !w) return w;
    if (auto w = write_file(file("cpu", "cpu.max"), format_cpu_max(limits.cpu_quota_us)); !w) return w;
    if (auto w = write_file(file("memory", "memory.max"), fmt::format("{}", limits.memory_bytes)); !w) return w;
    // Swap would let the partition's memory outgrow its limit; hosts without swap lack the file.
    if (exists(file("memory", "memory.swap.max"))) {
      if (auto w = write_file(file("memory", "memory.swap.max"), "0"); !w) return w;
    }
  } else {
    if (auto w = write_file(file("cpu", "cpu.shares"), fmt::format("{}", weight_to_shares(limits.cpu_weight))); !w) return w;
    if (auto w = write_file(file("cpu", "cpu.cfs_period_us"), fmt::format("{}", kCpuPeriodUs)); !w) return w;
    const std::string quota = limits.cpu_quota_us ? fmt::format("{}", *limits.cpu_quota_us) : std::string("-1");
    if (auto w = write_file(file("cpu", "cpu.cfs_quota_us"), quota); !w) return w;
    if (auto w = write_file(file("memory", "memory.limit_in_bytes"), fmt::format("{}", limits.memory_bytes)); !w) return w;
  }
  return write_file(file("pids", "pids.max"), fmt::format("{}", limits.pids));
}

tl::expected<CgroupLimits, std::string> Cgroups::read_limits(const std::string& name) const {
  if (auto n = check_group_name(name); !n) return tl::unexpected(n.error());
  const auto file = [&](std::string_view controller, std::string_view leaf) {
    return group_dir(controller, name) + "/" + std::string(leaf);
  };
  CgroupLimits limits;
  auto cpus_text = read_file(file("cpuset", "cpuset.cpus"));
  if (!cpus_text) return tl::unexpected(cpus_text.error());
  auto cpus = parse_cpu_list(*cpus_text);
  if (!cpus) return tl::unexpected(file("cpuset", "cpuset.cpus") + ": " + cpus.error());
  limits.cpus = std::move(*cpus);
  if (version_ == CgroupVersion::kV2) {
    auto weight = read_number(file("cpu", "cpu.weight"));
    if (!weight) return tl::unexpected(weight.error());
    limits.cpu_weight = static_cast<std::uint32_t>(std::min<std::uint64_t>(*weight, kMaxCpuWeight));
    auto max_text = read_file(file("cpu", "cpu.max"));
    if (!max_text) return tl::unexpected(max_text.error());
    auto quota = parse_cpu_max(*max_text);
    if (!quota) return tl::unexpected(file("cpu", "cpu.max") + ": " + quota.error());
    limits.cpu_quota_us = *quota;
    auto memory = read_number(file("memory", "memory.max"));
    if (!memory) return tl::unexpected(memory.error());
    limits.memory_bytes = *memory;
  } else {
    auto shares = read_number(file("cpu", "cpu.shares"));
    if (!shares) return tl::unexpected(shares.error());
    limits.cpu_weight = shares_to_weight(*shares);
    auto period = read_number(file("cpu", "cpu.cfs_period_us"));
    if (!period) return tl::unexpected(period.error());
    auto quota_text = read_file(file("cpu", "cpu.cfs_quota_us"));
    if (!quota_text) return tl::unexpected(quota_text.error());
    if (quota_text->find("-1") == std::string::npos) {
      auto quota = parse_limit(*quota_text);
      if (!quota || !*quota || *period == 0 || **quota > UINT64_MAX / kCpuPeriodUs) {
        return tl::unexpected(fmt::format("{} holds '{}', not a quota", file("cpu", "cpu.cfs_quota_us"), *quota_text));
      }
      limits.cpu_quota_us = **quota * kCpuPeriodUs / *period;
    }
    auto memory = read_number(file("memory", "memory.limit_in_bytes"));
    if (!memory) return tl::unexpected(memory.error());
    limits.memory_bytes = *memory;
  }
  auto pids = read_number(file("pids", "pids.max"));
  if (!pids) return tl::unexpected(pids.error());
  limits.pids = *pids;
  return limits;
}

tl::expected<void, std::string> Cgroups::add_process(const std::string& name, pid_t pid) const {
  if (auto n = check_group_name(name); !n) return n;
  if (pid <= 0) return tl::unexpected(fmt::format("pid {} is not a process", pid));
  for (const auto& [controller, base] : bases_) {
    if (auto w = write_file(base + "/" + name + "/cgroup.procs", fmt::format("{}", pid)); !w) return w;
  }
  return {};
}

tl::expected<void, std::string> Cgroups::remove(const std::string& name) const {
  if (auto n = check_group_name(name); !n) return n;
  for (const auto& [controller, base] : bases_) {
    const std::string dir = base + "/" + name;
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT) {
      return tl::unexpected(fmt::format("cannot remove {}: {}", dir, util::errno_text(errno)));
    }
  }
  return {};
}

}  // namespace tilehv::jail
