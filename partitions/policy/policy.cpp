// Policy: the tile as its operator declares it; the few derived answers every user of it needs.
#include "policy/policy.hpp"

namespace tilehv::policy {

CpuSet Tile::usable_cpus() const {
  CpuSet usable;
  for (std::uint32_t cpu : cpus) {
    if (!reserved_cpus.contains(cpu)) usable.insert(cpu);
  }
  return usable;
}

std::uint64_t Tile::usable_memory_bytes() const {
  return reserved_memory_bytes >= memory_bytes ? 0 : memory_bytes - reserved_memory_bytes;
}

const Partition* Policy::find(const std::string& name) const {
  for (const Partition& partition : partitions) {
    if (partition.name == name) return &partition;
  }
  return nullptr;
}

const Shadow* Policy::find_shadow(const std::string& name) const {
  for (const Shadow& shadow : shadows) {
    if (shadow.name == name) return &shadow;
  }
  return nullptr;
}

Located Policy::locate(const std::string& path) const {
  std::string prefix = path;
  while (!prefix.empty()) {
    if (auto it = field_positions.find(prefix); it != field_positions.end()) {
      return Located{path, it->second.line, it->second.column};
    }
    // "a.b[2].c" -> "a.b[2]" -> "a.b" -> "a"
    const std::size_t cut = prefix.find_last_of(".[");
    prefix = cut == std::string::npos ? std::string() : prefix.substr(0, cut);
  }
  return Located{path, 1, 1};
}

CpuSet Policy::effective_cpus(const Partition& partition) const {
  if (partition.cpu_mode == CpuMode::kPinned || !partition.cpus.empty()) return partition.cpus;
  CpuSet cpus = tile.usable_cpus();
  for (const Partition& other : partitions) {
    if (other.cpu_mode != CpuMode::kPinned) continue;
    for (std::uint32_t cpu : other.cpus) cpus.erase(cpu);
  }
  return cpus;
}

bool Policy::needs_vsock(const std::string& partition) const {
  for (const ChannelDecl& channel : channels) {
    if (channel.client == partition || channel.server == partition) return true;
  }
  return false;
}

}  // namespace tilehv::policy
