// LAPIC: the xAPIC of each CPU (MMIO at 0xfee00000): IPIs, EOI and the timer.
#pragma once

#include <cstdint>

namespace guest::lapic {

// Software-enables this CPU's LAPIC (spurious vector 0xff, task priority 0) with its timer masked.
void init_this_cpu();
// Measures the timer rate against the TSC (or takes it from CPUID 0x40000010 EBX); boot CPU, after
// time::init().
void calibrate_timer();

uint32_t id();
void eoi();

// Fixed-vector IPI to one CPU by APIC id, and to every CPU but the sender.
void send_ipi(uint32_t apic_id, uint8_t vector);
void send_ipi_all_but_self(uint8_t vector);
// INIT and STARTUP (SIPI) to every CPU but the sender; page is the trampoline's page number (< 256).
void send_init_all_but_self();
void send_startup_all_but_self(uint8_t page);

// Timer ticks per millisecond at divide-by-1 (the APIC bus rate).
uint64_t timer_khz();
// Arms the timer of this CPU: once after ns, or every ns; vector is delivered each time.
void timer_one_shot(uint64_t ns, uint8_t vector);
void timer_periodic(uint64_t ns, uint8_t vector);
void timer_stop();

}  // namespace guest::lapic
