// GDT: the per-CPU task state segment that gives faults their own stack.
#include <guest/gdt.hpp>

#include <cstdint>

extern "C" uint64_t boot_gdt[GUEST_GDT_ENTRIES];

namespace guest::gdt {

void load_tss(PerCpu& cpu) {
  cpu.tss_.ist[0] = reinterpret_cast<uintptr_t>(cpu.ist_stack_ + sizeof(cpu.ist_stack_));
  cpu.tss_.io_map_base = sizeof(Tss);  // no I/O bitmap
  const uint64_t base = reinterpret_cast<uintptr_t>(&cpu.tss_);
  const uint64_t limit = sizeof(Tss) - 1;
  const uint32_t slot = GUEST_FIRST_TSS_SLOT + 2 * cpu.index_;
  // Available 64-bit TSS (type 9), present; a 16-byte descriptor spanning two GDT slots.
  boot_gdt[slot] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (uint64_t{0x89} << 40) |
                   (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
  boot_gdt[slot + 1] = base >> 32;
  const uint16_t selector = static_cast<uint16_t>(slot * 8);
  asm volatile("ltr %0" ::"r"(selector) : "memory");
}

}  // namespace guest::gdt
