// CPUID: what each vCPU sees, derived from what KVM supports on this host.
#include "cpu/cpuid.hpp"

#include <algorithm>
#include <bit>

namespace tilehv::cpu {
namespace {

using kvm::CpuidEntry;

constexpr std::uint32_t kLeafFeatures = 1;
constexpr std::uint32_t kLeafCacheParams = 4;
constexpr std::uint32_t kLeafTopology = 0xb;
constexpr std::uint32_t kLeafTopologyV2 = 0x1f;
constexpr std::uint32_t kLeafHypervisor = 0x4000'0000;
constexpr std::uint32_t kLeafAmdSizes = 0x8000'0008;

constexpr std::uint32_t kEcxHypervisor = 1U << 31;
constexpr std::uint32_t kEdxHtt = 1U << 28;
constexpr std::uint32_t kTopologyLevelSmt = 1;
constexpr std::uint32_t kTopologyLevelCore = 2;

// Bits of the APIC id that number cores: enough for count - 1.
std::uint32_t core_id_bits(std::uint32_t count) {
  return count <= 1 ? 0 : static_cast<std::uint32_t>(std::bit_width(count - 1));
}

// Leaf 0xB / 0x1F: SMT level with one thread per core, then the core level with every vCPU.
void append_topology(std::vector<CpuidEntry>& out, std::uint32_t leaf, VcpuTopology t) {
  const std::uint32_t id = t.index;
  out.push_back({leaf, 0, kvm::kCpuidIndexSignificant, 0, 1, (kTopologyLevelSmt << 8) | 0, id});
  out.push_back({leaf, 1, kvm::kCpuidIndexSignificant, core_id_bits(t.count), t.count,
                 (kTopologyLevelCore << 8) | 1, id});
  out.push_back({leaf, 2, kvm::kCpuidIndexSignificant, 0, 0, 2, id});
}

}  // namespace

std::vector<CpuidEntry> cpuid_for_vcpu(std::span<const CpuidEntry> supported, VcpuTopology t,
                                       std::uint32_t tsc_khz) {
  std::vector<CpuidEntry> out;
  out.reserve(supported.size() + 4);
  bool has_v2_topology = false;
  bool has_hypervisor_leaf = false;
  const std::uint32_t count = std::max<std::uint32_t>(t.count, 1);
  for (CpuidEntry e : supported) {
    switch (e.function) {
      case kLeafFeatures:
        // EBX: APIC id, logical processors per package, CLFLUSH line size (8 x 8 bytes).
        e.ebx = (t.index << 24) | (std::min<std::uint32_t>(count, 255) << 16) | (8U << 8) | (e.ebx & 0xff);
        e.ecx |= kEcxHypervisor;
        if (count > 1) {
          e.edx |= kEdxHtt;
        } else {
          e.edx &= ~kEdxHtt;
        }
        break;
      case kLeafCacheParams: {
        // EAX[31:26]: cores per package - 1; EAX[25:14]: threads sharing the cache - 1 (only the
        // last level, L3, is shared by all cores).
        const std::uint32_t level = (e.eax >> 5) & 0x7;
        const std::uint32_t sharing = level >= 3 ? count - 1 : 0;
        // Both fields saturate rather than wrap: a 6-bit core count cannot say more than 64.
        e.eax = (e.eax & 0x3fff) | (std::min<std::uint32_t>(sharing, 0xfff) << 14) |
                (std::min<std::uint32_t>(count - 1, 0x3f) << 26);
        break;
      }
      case kLeafTopology:
        continue;  // rebuilt below
      case kLeafTopologyV2:
        has_v2_topology = true;
        continue;
      case kLeafHypervisor:
        has_hypervisor_leaf = true;
        e.eax = std::max(e.eax, kTimingLeaf);
        break;
      case kTimingLeaf:
        continue;  // rebuilt below
      case kLeafAmdSizes:
        // ECX[7:0]: cores - 1; ECX[15:12]: APIC id bits for the core number.
        e.ecx = (e.ecx & ~0xf0ffU) | ((count - 1) & 0xff) | (core_id_bits(count) << 12);
        break;
      default:
        break;
    }
    out.push_back(e);
  }
  const VcpuTopology clamped{t.index, count};
  append_topology(out, kLeafTopology, clamped);
  if (has_v2_topology) {
    append_topology(out, kLeafTopologyV2, clamped);
  }
  if (has_hypervisor_leaf) {
    out.push_back({kTimingLeaf, 0, 0, tsc_khz, kLapicBusKhz, 0, 0});
  }
  return out;
}

}  // namespace tilehv::cpu
