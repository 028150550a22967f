// PVH CPU state: the boot vCPU's registers at a PVH entry point.
#include "boot/pvh_cpu_state.hpp"

namespace tilehv::boot {
namespace {

constexpr std::uint64_t kCr0ProtectionEnable = 1U << 0;
constexpr std::uint64_t kCr0ExtensionType = 1U << 4;
constexpr std::uint64_t kRflagsReserved = 1U << 1;  // bit 1 always reads as one
constexpr std::uint8_t kCodeExecuteReadAccessed = 0xb;
constexpr std::uint8_t kDataReadWriteAccessed = 0x3;

kvm::Segment flat_segment(std::uint16_t selector, std::uint8_t type) {
  kvm::Segment s;
  s.base = 0;
  s.limit = 0xffff'ffff;
  s.selector = selector;
  s.type = type;
  s.present = true;
  s.dpl = 0;
  s.db = true;
  s.s = true;
  s.l = false;
  s.g = true;
  return s;
}

}  // namespace

BootCpuState pvh_boot_state(const kvm::SpecialRegisters& base, std::uint32_t entry,
                            std::uint64_t start_info_address) {
  BootCpuState state;
  state.special = base;
  // Selectors mirror the GDT layout Linux's PVH entry uses; the guest loads its own GDT anyway.
  state.special.cs = flat_segment(0x10, kCodeExecuteReadAccessed);
  const kvm::Segment data = flat_segment(0x18, kDataReadWriteAccessed);
  state.special.ds = data;
  state.special.es = data;
  state.special.fs = data;
  state.special.gs = data;
  state.special.ss = data;
  state.special.cr0 = kCr0ProtectionEnable | kCr0ExtensionType;
  state.special.cr3 = 0;
  state.special.cr4 = 0;
  state.special.efer = 0;
  state.registers.rip = entry;
  state.registers.rbx = start_info_address;
  state.registers.rflags = kRflagsReserved;
  return state;
}

}  // namespace tilehv::boot
