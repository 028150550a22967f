// I8042: the PC keyboard controller, modelled for what guests use it for: the CPU reset line.
#include "i8042/i8042.hpp"

#include <array>

namespace tilehv::vdevices {
namespace {

constexpr std::uint16_t kDataOffset = 0;
constexpr std::uint16_t kCommandOffset = 4;
constexpr std::uint8_t kStatusOutputFull = 0x01;
constexpr std::uint8_t kStatusSystem = 0x04;
constexpr std::uint8_t kStatusCommand = 0x08;
constexpr std::uint8_t kCmdReadControl = 0x20;
constexpr std::uint8_t kCmdWriteControl = 0x60;
constexpr std::uint8_t kCmdSelfTest = 0xaa;
constexpr std::uint8_t kCmdPulseReset = 0xfe;
constexpr std::uint8_t kSelfTestPassed = 0x55;
constexpr std::uint8_t kKeyboardAck = 0xfa;

constexpr const char* kStateKind = "i8042";

}  // namespace

void I8042::pio_read(std::uint16_t offset, std::span<std::uint8_t> data) noexcept {
  std::lock_guard lock(mutex_);
  for (auto& b : data) b = 0;
  if (data.empty()) return;
  if (offset == kDataOffset) {
    data[0] = output_;
    status_ &= static_cast<std::uint8_t>(~kStatusOutputFull);
  } else if (offset == kCommandOffset) {
    data[0] = status_;
  }
}

void I8042::pio_write(std::uint16_t offset, std::span<const std::uint8_t> bytes) noexcept {
  if (bytes.empty()) return;
  bool reset = false;
  {
    std::lock_guard lock(mutex_);
    if (offset == kCommandOffset) {
      reset = bytes[0] == kCmdPulseReset;
      command(bytes[0]);
    } else if (offset == kDataOffset) {
      data(bytes[0]);
    }
  }
  // Outside the lock: the VMM's reaction may stop vCPUs that are waiting for this device.
  if (reset) power_.guest_reset();
}

void I8042::command(std::uint8_t cmd) noexcept {
  status_ |= kStatusCommand;
  switch (cmd) {
    case kCmdReadControl:
      output(control_);
      break;
    case kCmdWriteControl:
      awaiting_control_ = true;
      break;
    case kCmdSelfTest:
      output(kSelfTestPassed);
      break;
    default:
      break;  // enable/disable port and the rest have no visible effect here
  }
}

void I8042::data(std::uint8_t value) noexcept {
  status_ &= static_cast<std::uint8_t>(~kStatusCommand);
  if (awaiting_control_) {
    control_ = value;
    awaiting_control_ = false;
  } else {
    output(kKeyboardAck);  // a keyboard command: acknowledge it, there is no keyboard behind
  }
}

void I8042::output(std::uint8_t value) noexcept {
  output_ = value;
  status_ |= kStatusOutputFull;
}

DeviceState I8042::save_state() const {
  std::lock_guard lock(mutex_);
  StateWriter w;
  w.u8(status_), w.u8(control_), w.u8(output_), w.boolean(awaiting_control_);
  return DeviceState{kStateKind, 1, w.take()};
}

tl::expected<void, StateError> I8042::restore_state(const DeviceState& state) {
  if (auto ok = check_state_header(state, kStateKind, 1); !ok) return ok;
  StateReader r(state.payload);
  std::array<std::uint8_t, 3> regs{};
  for (auto& reg : regs) {
    auto v = r.u8();
    if (!v) return tl::unexpected(v.error());
    reg = *v;
  }
  auto awaiting = r.boolean();
  if (!awaiting) return tl::unexpected(awaiting.error());
  if (!r.at_end()) return tl::unexpected(StateError{"i8042 state has trailing bytes"});
  std::lock_guard lock(mutex_);
  status_ = static_cast<std::uint8_t>(regs[0] | kStatusSystem), control_ = regs[1], output_ = regs[2];
  awaiting_control_ = *awaiting;
  return {};
}

}  // namespace tilehv::vdevices
