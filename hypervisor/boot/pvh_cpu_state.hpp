// PVH CPU state: the boot vCPU's registers at a PVH entry point.
#pragma once

#include <cstdint>

#include "kvm/cpu_state.hpp"

namespace tilehv::boot {

struct BootCpuState {
  kvm::Registers registers;
  kvm::SpecialRegisters special;
};

// The state the PVH ABI promises: 32-bit protected mode, paging off, flat 4 GiB code and data
// segments, %ebx = start info. `base` carries fields KVM keeps (TR, LDT, APIC base).
[[nodiscard]] BootCpuState pvh_boot_state(const kvm::SpecialRegisters& base, std::uint32_t entry,
                                          std::uint64_t start_info_address);

}  // namespace tilehv::boot
