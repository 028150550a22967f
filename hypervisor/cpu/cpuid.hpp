// CPUID: what each vCPU sees, derived from what KVM supports on this host.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kvm/cpu_state.hpp"

namespace tilehv::cpu {

// KVM's LAPIC timer counts at 1 GHz (one bus cycle per nanosecond), reported to guests so that they
// need not calibrate it.
inline constexpr std::uint32_t kLapicBusKhz = 1'000'000;
// Hypervisor leaf with the TSC and LAPIC bus frequencies, the convention VMware introduced and
// Linux, FreeBSD and the tile SDK read (EAX: TSC kHz, EBX: bus kHz).
inline constexpr std::uint32_t kTimingLeaf = 0x4000'0010;

struct VcpuTopology {
  std::uint32_t index;  // also the APIC id
  std::uint32_t count;  // vCPUs in the partition: one package, `count` cores, one thread each
};

// The CPUID table for one vCPU: the host's supported leaves, with topology, APIC id, the hypervisor
// bit and the timing leaf filled in. Pure: the same inputs give the same table.
[[nodiscard]] std::vector<kvm::CpuidEntry> cpuid_for_vcpu(std::span<const kvm::CpuidEntry> supported,
                                                          VcpuTopology topology, std::uint32_t tsc_khz);

}  // namespace tilehv::cpu
