// Triple fault: makes the CPU shut down, for testing how the VMM reports it.
#include <guest/kernel.hpp>

using namespace guest;

int kernel_main() {
  print("triple-fault: going down\n");
  cpu::disable_interrupts();
  // With an empty IDT the #UD cannot be delivered (#GP), nor can that (#DF), which shuts the CPU
  // down. ud2 rather than int3: instruction emulators (KVM's among them) raise #UD for it but often
  // cannot execute a protected-mode software interrupt at all.
  struct [[gnu::packed]] {
    uint16_t limit;
    uint64_t base;
  } const empty_idt{0, 0};
  asm volatile("lidt %0; ud2" ::"m"(empty_idt) : "memory");
  return static_cast<int>(exit_failure);  // not reached
}
