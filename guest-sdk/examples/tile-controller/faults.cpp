// Faults: the crash, the hang and the flood.
#include "faults.hpp"

#include <guest/cpu.hpp>

#include "variant.hpp"

namespace tile_controller {
namespace {

// v4: an integer division by zero, the classic bug of averaging over an empty set. The CPU raises
// #DE; the SDK prints its exception report and exits 99, which `tilehv run` passes on as its exit
// status (README: Exit values).
[[noreturn]] void crash(const Command& last) {
  // volatile: the compiler must not see the zero and drop or trap the division at compile time.
  volatile int64_t samples_in_window = 0;
  volatile int64_t average = last.temperature_milli / samples_in_window;
  (void)average;
  __builtin_unreachable();  // #DE does not return here
}

// v5: spins forever: no output, no exit, no I/O at all. Interrupts stay as they were, so the LAPIC
// timer still ticks; only the tile's watchdog or --timeout ends this.
[[noreturn]] void hang() {
  for (;;) guest::cpu::pause();
}

// v6: repeats its last command as fast as the network takes it, numbering on as if inputs came, and
// reads no input any more.
[[noreturn]] void flood(OutputLink& output, const Command& last) {
  Command runaway = last;
  for (;;) {
    ++runaway.seq;
    output.send_command(command_payload(runaway));
  }
}

}  // namespace

void run_fault(OutputLink& output, const Command& last) {
  if constexpr (variant::kFault == variant::Fault::crash) {
    crash(last);
  } else if constexpr (variant::kFault == variant::Fault::hang) {
    hang();
  } else {
    flood(output, last);
  }
}

}  // namespace tile_controller
