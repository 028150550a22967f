// Fuzz target: device state records from hostile bytes (a migration peer or a snapshot file) restored
// into each device. A refused record must leave the device as it was; nothing may crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/interrupt_line.hpp"
#include "core/power_events.hpp"
#include "debug_exit/debug_exit.hpp"
#include "i8042/i8042.hpp"
#include "serial/console_sink.hpp"
#include "serial/uart16550.hpp"

namespace {

class IgnoredPower final : public tilehv::vdevices::PowerEvents {
 public:
  void guest_exit(std::uint32_t) noexcept override {}
  void guest_reset() noexcept override {}
};

}  // namespace

// Input: byte 0 picks the device, bytes 1-2 the version, the rest is the payload.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tilehv::vdevices;
  if (size < 3) return 0;
  static const char* const kinds[] = {"uart16550", "i8042", "debug-exit"};
  DeviceState state;
  state.kind = kinds[data[0] % 3];
  state.version = static_cast<std::uint16_t>(data[1] | (data[2] << 8));
  state.payload.assign(data + 3, data + size);

  RingSink sink(64);
  UnconnectedLine line;
  IgnoredPower power;
  Uart16550 uart(sink, line);
  I8042 i8042(power);
  DebugExit debug_exit(power);
  Snapshottable* devices[] = {&uart, &i8042, &debug_exit};
  for (Snapshottable* device : devices) {
    const DeviceState before = device->save_state();
    if (!device->restore_state(state)) {
      // Refused: the device's state must be exactly what it was.
      const DeviceState after = device->save_state();
      if (after.payload != before.payload || after.version != before.version) __builtin_trap();
    } else {
      // Accepted: saving again gives a record that restores cleanly.
      const DeviceState again = device->save_state();
      if (!device->restore_state(again)) __builtin_trap();
    }
  }
  // Exercise the restored UART: every register, both directions.
  for (std::uint16_t reg = 0; reg < 8; ++reg) {
    std::uint8_t byte = static_cast<std::uint8_t>(reg * 37);
    uart.pio_write(reg, {&byte, 1});
    uart.pio_read(reg, {&byte, 1});
  }
  return 0;
}
