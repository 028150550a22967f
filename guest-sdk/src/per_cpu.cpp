// Per-CPU data: one record per CPU, reached through the GS base of the CPU that runs.
#include <guest/per_cpu.hpp>

#include <guest/cpu.hpp>

namespace guest {
namespace {
// One record per possible CPU; each CPU writes only its own after per_cpu_init.
PerCpu records[max_cpus];
}  // namespace

PerCpu& cpu_data(uint32_t index) { return records[index]; }

void per_cpu_init(uint32_t index, uint32_t apic_id) {
  PerCpu& record = records[index];
  record.self_ = &record;
  record.index_ = index;
  record.apic_id_ = apic_id;
  cpu::wrmsr(cpu::msr_gs_base, reinterpret_cast<uintptr_t>(&record));
}

}  // namespace guest
