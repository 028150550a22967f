// Exit: ends the partition with an exit value the VMM reports.
#include <guest/exit.hpp>

#include <guest/cpu.hpp>

namespace guest {

namespace {
constexpr uint16_t exit_port = 0xf4;
}

void exit(uint32_t value) {
  cpu::disable_interrupts();
  cpu::outl(exit_port, value);
  cpu::halt_forever();
}

}  // namespace guest
