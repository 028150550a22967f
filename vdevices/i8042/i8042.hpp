// I8042: the PC keyboard controller, modelled for what guests use it for: the CPU reset line.
#pragma once

#include <cstdint>
#include <mutex>

#include "core/bus_device.hpp"
#include "core/device_state.hpp"
#include "core/power_events.hpp"

namespace tilehv::vdevices {

// Registered at port 0x60 for 5 ports: 0x60 data, 0x64 status/command (0x61-0x63 read as zero).
// Command 0xfe pulses the reset line, which Linux and many small kernels use to reboot.
class I8042 final : public PioDevice, public Snapshottable {
 public:
  static constexpr std::uint16_t kBasePort = 0x60;
  static constexpr std::uint16_t kPortCount = 5;

  explicit I8042(PowerEvents& power) : power_(power) {}

  void pio_read(std::uint16_t offset, std::span<std::uint8_t> data) noexcept override;
  void pio_write(std::uint16_t offset, std::span<const std::uint8_t> data) noexcept override;

  [[nodiscard]] DeviceState save_state() const override;
  [[nodiscard]] tl::expected<void, StateError> restore_state(const DeviceState& state) override;

 private:
  void command(std::uint8_t cmd) noexcept;
  void data(std::uint8_t value) noexcept;
  void output(std::uint8_t value) noexcept;

  PowerEvents& power_;
  mutable std::mutex mutex_;
  std::uint8_t status_ = 0x04;   // system flag: self-test passed
  std::uint8_t control_ = 0x01;  // keyboard interrupt enabled, as firmware leaves it
  std::uint8_t output_ = 0;
  bool awaiting_control_ = false;  // the next data write is the control byte (after command 0x60)
};

}  // namespace tilehv::vdevices
