// LAPIC: the xAPIC of each CPU (MMIO at 0xfee00000): IPIs, EOI and the timer.
#include <guest/lapic.hpp>

#include <guest/cpu.hpp>
#include <guest/interrupts.hpp>
#include <guest/time.hpp>

namespace guest::lapic {
namespace {

constexpr uint32_t reg_id = 0x20, reg_tpr = 0x80, reg_eoi = 0xb0, reg_svr = 0xf0, reg_icr_low = 0x300,
                   reg_icr_high = 0x310, reg_lvt_timer = 0x320, reg_lvt_lint0 = 0x350, reg_lvt_lint1 = 0x360,
                   reg_timer_initial = 0x380, reg_timer_current = 0x390, reg_timer_divide = 0x3e0;
constexpr uint32_t svr_enable = 0x100;
constexpr uint32_t lvt_masked = 1u << 16, lvt_periodic = 1u << 17;
constexpr uint32_t icr_pending = 1u << 12, icr_assert = 1u << 14;
constexpr uint32_t icr_init = 5u << 8, icr_startup = 6u << 8, icr_all_but_self = 3u << 18;
constexpr uint32_t divide_by_1 = 0xb;
constexpr uint64_t default_base = 0xfee00000;

// Set by the boot CPU before any other CPU runs; every CPU's xAPIC sits at the same address.
uint64_t timer_rate_khz = 0;
uint64_t mmio_base = default_base;

// SAFETY: the LAPIC page is identity-mapped uncached by the boot page tables (3 GiB and up).
volatile uint32_t* reg(uint32_t offset) { return reinterpret_cast<volatile uint32_t*>(mmio_base + offset); }
uint32_t read(uint32_t offset) { return *reg(offset); }
void write(uint32_t offset, uint32_t value) { *reg(offset) = value; }

void send_icr(uint32_t high, uint32_t low) {
  write(reg_icr_high, high);
  write(reg_icr_low, low);
  // Delivery is asynchronous; bound the wait so a lost IPI cannot hang the sender.
  for (unsigned i = 0; i < 1'000'000 && (read(reg_icr_low) & icr_pending) != 0; ++i) cpu::pause();
}

void arm(uint64_t ns, uint8_t vector, uint32_t mode) {
  uint64_t count = ns * timer_rate_khz / 1'000'000;
  if (count == 0) count = 1;
  if (count > 0xffffffff) count = 0xffffffff;
  write(reg_timer_divide, divide_by_1);
  write(reg_lvt_timer, mode | vector);
  write(reg_timer_initial, static_cast<uint32_t>(count));
}

}  // namespace

void init_this_cpu() {
  // Reading the MSR traps to the hypervisor, so it is read once here rather than on every access.
  const uint64_t base = cpu::rdmsr(cpu::msr_apic_base) & 0xfffff000;
  if (base != 0) mmio_base = base;
  write(reg_tpr, 0);
  write(reg_lvt_timer, lvt_masked | interrupts::timer_vector);
  write(reg_lvt_lint0, lvt_masked);
  write(reg_lvt_lint1, lvt_masked);
  write(reg_svr, svr_enable | interrupts::spurious_vector);
}

void calibrate_timer() {
  // tilehv (and KVM) report the APIC bus rate next to the TSC rate.
  if (cpu::cpuid(0x40000000).eax >= 0x40000010) {
    const uint64_t khz = cpu::cpuid(0x40000010).ebx;
    if (khz != 0) {
      timer_rate_khz = khz;
      return;
    }
  }
  write(reg_timer_divide, divide_by_1);
  write(reg_lvt_timer, lvt_masked | interrupts::timer_vector);
  write(reg_timer_initial, 0xffffffff);
  const uint64_t start = time::now_ns();
  time::delay_ms(10);
  const uint32_t remaining = read(reg_timer_current);
  const uint64_t elapsed_ns = time::now_ns() - start;
  write(reg_timer_initial, 0);
  timer_rate_khz = (uint64_t{0xffffffff} - remaining) * 1'000'000 / elapsed_ns;
}

uint32_t id() { return read(reg_id) >> 24; }
void eoi() { write(reg_eoi, 0); }

void send_ipi(uint32_t apic_id, uint8_t vector) { send_icr(apic_id << 24, icr_assert | vector); }
void send_ipi_all_but_self(uint8_t vector) { send_icr(0, icr_all_but_self | icr_assert | vector); }
void send_init_all_but_self() { send_icr(0, icr_all_but_self | icr_assert | icr_init); }
void send_startup_all_but_self(uint8_t page) { send_icr(0, icr_all_but_self | icr_assert | icr_startup | page); }

uint64_t timer_khz() { return timer_rate_khz; }
void timer_one_shot(uint64_t ns, uint8_t vector) { arm(ns, vector, 0); }
void timer_periodic(uint64_t ns, uint8_t vector) { arm(ns, vector, lvt_periodic); }
void timer_stop() {
  write(reg_timer_initial, 0);
  write(reg_lvt_timer, lvt_masked | interrupts::timer_vector);
}

}  // namespace guest::lapic
