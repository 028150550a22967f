// Halt: every CPU halts forever with interrupts off, so the guest never runs again.
#include <guest/kernel.hpp>

using namespace guest;

int kernel_main() {
  const smp::StartResult started = smp::start_aps();
  print("halt: halting {} cpus\n", started.online);
  smp::run_on_all([] { cpu::halt_forever(); });
  return static_cast<int>(exit_failure);  // not reached
}
