// DebugExit: the guest exit port, compatible with QEMU's isa-debug-exit (iobase 0xf4, iosize 4).
#pragma once

#include <atomic>
#include <cstdint>

#include "core/bus_device.hpp"
#include "core/device_state.hpp"
#include "core/power_events.hpp"

namespace tilehv::vdevices {

// A write of any width ends the partition with the written value, so kernels that exit this way run
// unchanged on QEMU microvm with `-device isa-debug-exit,iobase=0xf4,iosize=4`.
class DebugExit final : public PioDevice, public Snapshottable {
 public:
  static constexpr std::uint16_t kDefaultPort = 0xf4;
  static constexpr std::uint16_t kPortCount = 4;

  explicit DebugExit(PowerEvents& power) : power_(power) {}

  void pio_read(std::uint16_t offset, std::span<std::uint8_t> data) noexcept override;
  void pio_write(std::uint16_t offset, std::span<const std::uint8_t> data) noexcept override;

  // Stateless: a write takes effect at once, nothing lingers between accesses.
  [[nodiscard]] DeviceState save_state() const override { return DeviceState{"debug-exit", 1, {}}; }
  [[nodiscard]] tl::expected<void, StateError> restore_state(const DeviceState& state) override;

 private:
  PowerEvents& power_;
};

}  // namespace tilehv::vdevices
