// GDT: the per-CPU task state segment that gives faults their own stack.
#pragma once

#include <guest/per_cpu.hpp>

namespace guest::gdt {

// Installs this CPU's TSS descriptor in the shared GDT and loads the task register.
void load_tss(PerCpu& cpu);

}  // namespace guest::gdt
