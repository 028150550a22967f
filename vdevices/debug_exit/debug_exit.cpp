// DebugExit: the guest exit port, compatible with QEMU's isa-debug-exit (iobase 0xf4, iosize 4).
#include "debug_exit/debug_exit.hpp"

#include <algorithm>

namespace tilehv::vdevices {

void DebugExit::pio_read(std::uint16_t /*offset*/, std::span<std::uint8_t> data) noexcept {
  std::fill(data.begin(), data.end(), std::uint8_t{0});
}

void DebugExit::pio_write(std::uint16_t /*offset*/, std::span<const std::uint8_t> data) noexcept {
  if (data.empty()) return;  // no value was written
  // QEMU takes the value as written, whatever the offset inside the port range.
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < data.size() && i < 4; ++i) {
    value |= std::uint32_t{data[i]} << (8 * i);
  }
  power_.guest_exit(value);
}

tl::expected<void, StateError> DebugExit::restore_state(const DeviceState& state) {
  if (auto ok = check_state_header(state, "debug-exit", 1); !ok) return ok;
  if (!state.payload.empty()) return tl::unexpected(StateError{"debug-exit state must be empty"});
  return {};
}

}  // namespace tilehv::vdevices
