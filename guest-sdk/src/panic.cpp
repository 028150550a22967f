// Panic: reports a fatal kernel error on the console and exits with exit_panic (98).
#include <guest/panic.hpp>

#include <guest/cpu.hpp>

namespace guest {

void vpanic(const char* fmt, const FormatArg* args, size_t count) {
  cpu::disable_interrupts();
  const bool locked = console::emergency_begin();
  print_unlocked("PANIC on apic {}: ", cpu::initial_apic_id());
  console::vprint_unlocked(fmt, args, count);
  console::emergency_end(locked);
  exit(exit_panic);
}

}  // namespace guest
