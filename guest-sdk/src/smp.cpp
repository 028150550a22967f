// SMP: starting the application processors and running work on every CPU.
#include <guest/smp.hpp>

#include <atomic>

#include <guest/console.hpp>
#include <guest/cpu.hpp>
#include <guest/gdt.hpp>
#include <guest/interrupts.hpp>
#include <guest/lapic.hpp>
#include <guest/panic.hpp>
#include <guest/per_cpu.hpp>
#include <guest/phys_memory.hpp>
#include <guest/spinlock.hpp>
#include <guest/time.hpp>

extern "C" char ap_trampoline_start[], ap_trampoline_end[];

namespace guest::smp {
namespace {

struct Work {
  void (*fn)(void*);
  void* arg;
};

// Machine-wide SMP state. The dispatch lock orders AP arrival against run_on_all, so the set of CPUs
// a dispatch waits for cannot change while it runs.
TicketLock dispatch_lock;
std::atomic<uint32_t> online{1};
std::atomic<uint64_t> generation{0};
std::atomic<uint32_t> pending{0};
Work current_work{nullptr, nullptr};  // written under dispatch_lock before generation is bumped
bool aps_started = false;             // boot CPU only

// Multiprocessor spec timing: 10 ms after INIT, 200 us between the two STARTUPs.
constexpr uint64_t init_delay_ns = 10'000'000;
constexpr uint64_t startup_delay_ns = 200'000;

[[noreturn]] void idle_loop() {
  PerCpu& self = this_cpu();
  for (;;) {
    // Interrupts off across the check, so a wakeup between the check and hlt still ends the hlt.
    cpu::disable_interrupts();
    const uint64_t current = generation.load(std::memory_order_acquire);
    if (current == self.work_seen_) {
      cpu::enable_interrupts_and_halt();
      continue;
    }
    self.work_seen_ = current;
    const Work work = current_work;
    cpu::enable_interrupts();
    work.fn(work.arg);
    pending.fetch_sub(1, std::memory_order_release);
  }
}

void copy_trampoline(uint64_t page) {
  const size_t size = static_cast<size_t>(ap_trampoline_end - ap_trampoline_start);
  // SAFETY: page is a free RAM page below 1 MiB reserved for the trampoline by phys_memory.
  __builtin_memcpy(reinterpret_cast<void*>(page), ap_trampoline_start, size);
}

}  // namespace

uint32_t expected_cpu_count() {
  const uint32_t max_leaf = cpu::cpuid(0).eax;
  if (max_leaf >= 0xb) {
    const uint32_t logical = cpu::cpuid(0xb, 1).ebx & 0xffff;
    if (logical != 0) return logical;
  }
  const auto leaf1 = cpu::cpuid(1);
  const bool htt = (leaf1.edx & (1u << 28)) != 0;
  const uint32_t logical = (leaf1.ebx >> 16) & 0xff;
  return htt && logical != 0 ? logical : 1;
}

StartResult start_aps(uint64_t timeout_ns) {
  GUEST_ASSERT(cpu_index() == 0);
  GUEST_ASSERT(!aps_started);
  aps_started = true;
  uint32_t expected = expected_cpu_count();
  if (expected > max_cpus) {
    print("smp: {} cpus reported, starting at most {}\n", expected, max_cpus);
    expected = max_cpus;
  }
  if (expected <= 1) return StartResult{1, 1};
  const uint64_t page = phys_memory::trampoline_page();
  if (page == 0) {
    print("smp: no free page below 1 MiB for the AP trampoline\n");
    return StartResult{expected, 1};
  }
  copy_trampoline(page);
  lapic::send_init_all_but_self();
  time::delay_ns(init_delay_ns);
  lapic::send_startup_all_but_self(static_cast<uint8_t>(page >> 12));
  time::delay_ns(startup_delay_ns);
  // Only CPUs still waiting for STARTUP act on the second one, so it cannot restart an arrived AP.
  lapic::send_startup_all_but_self(static_cast<uint8_t>(page >> 12));
  const time::Deadline deadline = time::Deadline::after_ns(timeout_ns);
  while (online.load(std::memory_order_acquire) < expected && !deadline.expired()) cpu::pause();
  return StartResult{expected, online.load(std::memory_order_acquire)};
}

uint32_t online_count() { return online.load(std::memory_order_acquire); }
uint32_t cpu_index() { return this_cpu().index_; }
uint32_t apic_id() { return this_cpu().apic_id_; }
uint32_t apic_id_of(uint32_t index) { return cpu_data(index).apic_id_; }

void run_on_all(void (*fn)(void*), void* arg) {
  GUEST_ASSERT(cpu_index() == 0);
  LockGuard guard(dispatch_lock);
  const uint32_t others = online.load(std::memory_order_relaxed) - 1;
  current_work = Work{fn, arg};
  pending.store(others, std::memory_order_relaxed);
  generation.fetch_add(1, std::memory_order_release);
  if (others != 0) lapic::send_ipi_all_but_self(interrupts::wakeup_vector);
  fn(arg);
  while (pending.load(std::memory_order_acquire) != 0) cpu::pause();
}

// Every AP comes here from the boot path with its own stack and the index it took on arrival.
extern "C" [[noreturn]] void ap_main(uint32_t index) {
  per_cpu_init(index, lapic::id());
  PerCpu& self = this_cpu();
  gdt::load_tss(self);
  interrupts::load();
  lapic::init_this_cpu();
  {
    LockGuard guard(dispatch_lock);
    self.work_seen_ = generation.load(std::memory_order_relaxed);
    online.fetch_add(1, std::memory_order_release);
  }
  idle_loop();
}

}  // namespace guest::smp
