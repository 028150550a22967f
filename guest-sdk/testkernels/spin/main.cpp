// Spin: every CPU loops forever with interrupts off and no I/O, so the guest never exits on its own.
#include <guest/kernel.hpp>

using namespace guest;

int kernel_main() {
  const smp::StartResult started = smp::start_aps();
  print("spin: spinning on {} cpus\n", started.online);
  smp::run_on_all([] {
    cpu::disable_interrupts();
    // A plain jump: pause could cause pause-loop exits, and this kernel must cause none.
    for (;;) asm volatile("" ::: "memory");
  });
  return static_cast<int>(exit_failure);  // not reached
}
