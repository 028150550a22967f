// Timer: checks the LAPIC timer against the TSC on every CPU: a periodic timer of period=US
// microseconds (default 1000) must tick ticks=N times (default 50) in N periods, and a one-shot
// timer must fire once after its delay. Prints one line per CPU and exits 0, or 1 with the evidence.
#include <guest/interrupts.hpp>
#include <guest/kernel.hpp>
#include <guest/lapic.hpp>
#include <guest/spinlock.hpp>

using namespace guest;

namespace {

constexpr uint8_t kTimerVector = interrupts::first_kernel_vector;

// Per-CPU tick counters, written by each CPU's own interrupt handler only.
volatile uint64_t ticks[64];
volatile bool failed = false;
TicketLock report_lock;

void on_tick(interrupts::Frame&) { const size_t cpu = smp::cpu_index();
  ticks[cpu] = ticks[cpu] + 1; }

void measure() {
  const uint64_t period_us = cmdline::get_u64("period", 1000);
  const uint64_t wanted = cmdline::get_u64("ticks", 50);
  const size_t cpu = smp::cpu_index();
  ticks[cpu] = 0;

  const uint64_t start = time::now_ns();
  lapic::timer_periodic(period_us * 1000, kTimerVector);
  while (ticks[cpu] < wanted) cpu::enable_interrupts_and_halt();
  lapic::timer_stop();
  cpu::disable_interrupts();
  const uint64_t elapsed_us = (time::now_ns() - start) / 1000;

  // The one-shot fires exactly once: a second period later, no further tick has arrived.
  ticks[cpu] = 0;
  lapic::timer_one_shot(period_us * 1000, kTimerVector);
  while (ticks[cpu] == 0) cpu::enable_interrupts_and_halt();
  cpu::disable_interrupts();
  time::delay_us(3 * period_us);
  const uint64_t one_shot_ticks = ticks[cpu];

  // A tick may come late (the host is busy) but never early: N periods take at least N - 1 periods.
  const bool ok = elapsed_us >= (wanted - 1) * period_us && one_shot_ticks == 1;
  LockGuard guard(report_lock);
  print("timer: cpu {} {} ticks of {} us in {} us, one-shot {} {}\n", cpu, wanted, period_us, elapsed_us,
        one_shot_ticks, ok ? "ok" : "WRONG");
  if (!ok) failed = true;
}

}  // namespace

int kernel_main() {
  interrupts::set_handler(kTimerVector, on_tick);
  const smp::StartResult started = smp::start_aps();
  smp::run_on_all([] { measure(); });
  print("timer: {} cpus {}\n", started.online, failed ? "failed" : "ok");
  return failed ? static_cast<int>(exit_failure) : 0;
}
