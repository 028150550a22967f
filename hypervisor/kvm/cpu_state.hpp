// CPU state types: registers and segments as tilehv sees them, independent of the KVM ABI.
#pragma once

#include <cstdint>

namespace tilehv::kvm {

struct Registers {
  std::uint64_t rax = 0, rbx = 0, rcx = 0, rdx = 0, rsi = 0, rdi = 0, rsp = 0, rbp = 0;
  std::uint64_t r8 = 0, r9 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0, r14 = 0, r15 = 0;
  std::uint64_t rip = 0, rflags = 0;
};

struct Segment {
  std::uint64_t base = 0;
  std::uint32_t limit = 0;
  std::uint16_t selector = 0;
  std::uint8_t type = 0;
  bool present = false;
  std::uint8_t dpl = 0;
  bool db = false;  // default operand size (32-bit)
  bool s = false;   // code/data (not system) segment
  bool l = false;   // 64-bit code segment
  bool g = false;   // 4 KiB granularity
  bool avl = false;
  bool unusable = false;
};

struct DescriptorTable {
  std::uint64_t base = 0;
  std::uint16_t limit = 0;
};

struct SpecialRegisters {
  Segment cs, ds, es, fs, gs, ss, tr, ldt;
  DescriptorTable gdt, idt;
  std::uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, cr8 = 0, efer = 0, apic_base = 0;
};

struct FpuState {
  std::uint16_t fcw = 0x37f;    // x87 control word after FNINIT
  std::uint32_t mxcsr = 0x1f80;  // all SSE exceptions masked, as after reset
};

// One CPUID leaf (function) and, where significant, subleaf (index).
struct CpuidEntry {
  std::uint32_t function = 0;
  std::uint32_t index = 0;
  std::uint32_t flags = 0;  // KVM_CPUID_FLAG_* as delivered by the kernel
  std::uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

}  // namespace tilehv::kvm

namespace tilehv::kvm {
// CpuidEntry::flags bit: the leaf has subleaves and `index` selects one (KVM_CPUID_FLAG_SIGNIFCANT_INDEX).
inline constexpr std::uint32_t kCpuidIndexSignificant = 1;
}  // namespace tilehv::kvm
