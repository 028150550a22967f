// Checks of the tile's resources: resources-fit-tile and exclusive-cpus.
#include "memory/memory_layout.hpp"
#include "policy/check_support.hpp"
#include "policy/values.hpp"

namespace tilehv::policy::detail {
namespace {

constexpr std::string_view kFit = "resources-fit-tile";
constexpr std::uint64_t kPageSize = 4096;

CpuSet difference(const CpuSet& a, const CpuSet& b) {
  CpuSet out;
  for (std::uint32_t cpu : a) {
    if (!b.contains(cpu)) out.insert(cpu);
  }
  return out;
}

CpuSet intersection(const CpuSet& a, const CpuSet& b) {
  CpuSet out;
  for (std::uint32_t cpu : a) {
    if (b.contains(cpu)) out.insert(cpu);
  }
  return out;
}

std::string cpus_text(const CpuSet& cpus) {
  return fmt::format("{} {}", cpus.size() == 1 ? "CPU" : "CPUs", format_cpu_set(cpus));
}

void check_tile(const Policy& policy, std::vector<Diagnostic>& findings) {
  const Tile& tile = policy.tile;
  if (!malformed(policy, "tile.reserve.cpus") && !malformed(policy, "tile.cpus")) {
    const CpuSet outside = difference(tile.reserved_cpus, tile.cpus);
    if (!outside.empty()) {
      report(policy, findings, "tile.reserve.cpus", cpus_text(outside),
             fmt::format("CPUs of the tile ({})", format_cpu_set(tile.cpus)), kFit);
    } else if (!tile.cpus.empty() && tile.usable_cpus().empty()) {
      report(policy, findings, "tile.reserve.cpus", fmt::format("all of the tile's CPUs ({})", format_cpu_set(tile.cpus)),
             "a reserve that leaves partitions at least one CPU", kFit);
    }
  }
  if (!malformed(policy, "tile.reserve.memory") && !malformed(policy, "tile.memory") &&
      tile.reserved_memory_bytes >= tile.memory_bytes && tile.reserved_memory_bytes > 0) {
    report(policy, findings, "tile.reserve.memory", format_size(tile.reserved_memory_bytes),
           fmt::format("less than the tile's memory ({})", format_size(tile.memory_bytes)), kFit);
  }
}

void check_partition_memory(const Policy& policy, std::vector<Diagnostic>& findings) {
  const std::uint64_t usable = policy.tile.usable_memory_bytes();
  // A reserve that does not fit the tile is reported on its own; the sum is judged against a sound tile.
  const bool tile_known = !malformed(policy, "tile.memory") && !malformed(policy, "tile.reserve.memory") &&
                          policy.tile.reserved_memory_bytes < policy.tile.memory_bytes;
  std::uint64_t total = 0;
  bool over = false;
  for (std::size_t i = 0; i < policy.partitions.size(); ++i) {
    const std::uint64_t bytes = policy.partitions[i].memory_bytes;
    const std::string path = partition_path(i) + ".memory";
    if (malformed(policy, path)) continue;
    if (bytes < memory::kMinMemorySize || bytes > memory::kMaxMemorySize || bytes % kPageSize != 0) {
      report(policy, findings, path, format_size(bytes),
             fmt::format("a multiple of 4K from {} to {}", format_size(memory::kMinMemorySize),
                         format_size(memory::kMaxMemorySize)),
             kFit);
      continue;
    }
    total += bytes;
    // Reported once, where the sum first passes what the tile has: that partition is the one that
    // does not fit (with those before it).
    if (tile_known && !over && total > usable) {
      over = true;
      report(policy, findings, path,
             fmt::format("{}, which brings the partitions' memory to {}", format_size(bytes), format_size(total)),
             fmt::format("at most {} in total (tile memory {} less the reserve {})", format_size(usable),
                         format_size(policy.tile.memory_bytes), format_size(policy.tile.reserved_memory_bytes)),
             kFit);
    }
  }
  // A shadow runs with its live partition's memory, beside it.
  for (std::size_t i = 0; i < policy.shadows.size() && !over; ++i) {
    const Partition* live = policy.find(policy.shadows[i].live);
    if (live == nullptr || live->memory_bytes < memory::kMinMemorySize || live->memory_bytes > memory::kMaxMemorySize) continue;
    total += live->memory_bytes;
    if (tile_known && total > usable) {
      over = true;
      report(policy, findings, fmt::format("shadows[{}].live", i),
             fmt::format("{}, whose shadow brings the memory in use to {}", as_written(live->name), format_size(total)),
             fmt::format("at most {} in total, shadows included (each has its live partition's memory)",
                         format_size(usable)),
             kFit);
    }
  }
}

void check_partition_cpus(const Policy& policy, std::vector<Diagnostic>& findings) {
  const Tile& tile = policy.tile;
  if (malformed(policy, "tile.cpus") || malformed(policy, "tile.reserve.cpus")) return;
  // A reserve outside the tile or holding all of it is reported on its own.
  if (tile.usable_cpus().empty() || tile.usable_cpus().size() + tile.reserved_cpus.size() != tile.cpus.size()) return;
  for (std::size_t i = 0; i < policy.partitions.size(); ++i) {
    const Partition& partition = policy.partitions[i];
    const std::string cpus_path = partition_path(i) + ".cpu.cpus";
    if (malformed(policy, cpus_path) || malformed(policy, partition_path(i) + ".cpu.mode")) continue;
    const CpuSet outside = difference(partition.cpus, tile.cpus);
    const CpuSet reserved = intersection(partition.cpus, tile.reserved_cpus);
    if (!outside.empty()) {
      report(policy, findings, cpus_path, cpus_text(outside),
             fmt::format("CPUs of the tile less its reserve ({})", format_cpu_set(tile.usable_cpus())), kFit);
    } else if (!reserved.empty()) {
      report(policy, findings, cpus_path, fmt::format("{} of the host reserve", cpus_text(reserved)),
             fmt::format("CPUs of the tile less its reserve ({})", format_cpu_set(tile.usable_cpus())), kFit);
    } else if (policy.effective_cpus(partition).empty() && !tile.usable_cpus().empty()) {
      report(policy, findings, partition_path(i) + ".cpu", "no CPU left: pinned partitions hold every usable CPU",
             "a CPU that no pinned partition holds, for a shared partition", kFit);
    }
    const std::string vcpus_path = partition_path(i) + ".vcpus";
    if (partition.cpu_mode == CpuMode::kPinned && !partition.cpus.empty() && !malformed(policy, vcpus_path) &&
        partition.vcpus > partition.cpus.size()) {
      report(policy, findings, vcpus_path, fmt::format("{} vCPUs", partition.vcpus),
             fmt::format("at most one vCPU per pinned CPU ({})", cpus_text(partition.cpus)), kFit);
    }
  }
}

}  // namespace

void check_resources_fit_tile(const Policy& policy, std::vector<Diagnostic>& findings) {
  check_tile(policy, findings);
  check_partition_memory(policy, findings);
  check_partition_cpus(policy, findings);
}

void check_exclusive_cpus(const Policy& policy, std::vector<Diagnostic>& findings) {
  const auto& partitions = policy.partitions;
  for (std::size_t j = 0; j < partitions.size(); ++j) {
    if (malformed(policy, partition_path(j) + ".cpu")) continue;
    // A shared partition without cpus runs on what pinned ones leave: it cannot collide.
    if (partitions[j].cpus.empty()) continue;
    for (std::size_t i = 0; i < j; ++i) {
      if (malformed(policy, partition_path(i) + ".cpu")) continue;
      const bool pinned_i = partitions[i].cpu_mode == CpuMode::kPinned;
      const bool pinned_j = partitions[j].cpu_mode == CpuMode::kPinned;
      if (!pinned_i && !pinned_j) continue;
      const CpuSet shared = intersection(partitions[i].cpus, partitions[j].cpus);
      if (shared.empty()) continue;
      const std::string other = fmt::format("{} ({})", as_written(partitions[i].name), partition_path(i));
      if (pinned_i) {
        report(policy, findings, partition_path(j) + ".cpu.cpus",
               fmt::format("{}, which {} holds pinned", cpus_text(shared), other),
               "CPUs no pinned partition holds", "exclusive-cpus");
      } else {
        report(policy, findings, partition_path(j) + ".cpu.cpus",
               fmt::format("{}, which {} also uses", cpus_text(shared), other),
               "CPUs no other partition uses, as this partition is pinned", "exclusive-cpus");
      }
    }
  }
}

}  // namespace tilehv::policy::detail
