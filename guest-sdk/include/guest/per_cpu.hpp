// Per-CPU data: one record per CPU, reached through the GS base of the CPU that runs.
#pragma once

#include <atomic>
#include <cstdint>

#include <guest/boot_layout.h>

namespace guest {

// The 64-bit task state segment: only the interrupt stack table is used.
struct [[gnu::packed]] Tss {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t io_map_base;
};
static_assert(sizeof(Tss) == 104);

inline constexpr uint32_t max_cpus = GUEST_MAX_CPUS;
inline constexpr size_t ist_stack_size = 8192;

struct PerCpu {
  PerCpu* self_;  // must stay first: this_cpu() loads it from gs:0
  uint32_t index_;
  uint32_t apic_id_;
  uint64_t work_seen_;  // last run_on_all generation this CPU executed
  Tss tss_;
  // Double faults, NMIs and machine checks switch here, so a blown kernel stack still gets reported.
  alignas(16) uint8_t ist_stack_[ist_stack_size];
};

// The record of CPU index (0 = boot CPU); index must be below max_cpus.
PerCpu& cpu_data(uint32_t index);

// The running CPU's record; valid once per_cpu_init() ran on this CPU.
inline PerCpu& this_cpu() {
  PerCpu* self;
  asm volatile("mov %%gs:0, %0" : "=r"(self));
  return *self;
}

// Points this CPU's GS base at its record and fills in index and APIC id.
void per_cpu_init(uint32_t index, uint32_t apic_id);

}  // namespace guest
