// Console control messages (virtio 1.2 spec 5.3.6.2): the 8-byte header both control queues carry,
// its encoding towards the driver, and the named checks every message from the driver passes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace tilehv::vdevices::console {

// Spec 5.3.6.2, struct virtio_console_control's event field.
enum class ControlEvent : std::uint16_t {
  kDeviceReady = 0,   // driver -> device: the driver is ready for port announcements
  kDeviceAdd = 1,     // device -> driver: a port exists
  kDeviceRemove = 2,  // device -> driver: a port went away (never sent: ports are fixed)
  kPortReady = 3,     // driver -> device: the driver set the port up (value 1) or failed (0)
  kConsolePort = 4,   // device -> driver: the port is a console
  kResize = 5,        // device -> driver: console size (never sent: VIRTIO_CONSOLE_F_SIZE not offered)
  kPortOpen = 6,      // both ways: the sender's end of the port opened (1) or closed (0)
  kPortName = 7,      // device -> driver: the port's name follows the header, without a terminator
};

inline constexpr std::size_t kControlHeaderBytes = 8;  // le32 id, le16 event, le16 value
inline constexpr std::uint32_t kNoPort = 0xffffffff;   // id of DEVICE_READY (Linux's VIRTIO_CONSOLE_BAD_ID)

[[nodiscard]] std::string_view event_name(std::uint16_t event) noexcept;

// A message the device queues for the driver. A PORT_NAME message gets its name when it is encoded.
struct OutgoingMessage {
  std::uint32_t port = 0;
  ControlEvent event = ControlEvent::kDeviceAdd;
  std::uint16_t value = 0;
};

// The header, followed by `name` for PORT_NAME.
[[nodiscard]] std::vector<std::uint8_t> encode(const OutgoingMessage& message, std::string_view name);

// A message from the driver, decoded and checked.
struct DriverMessage {
  std::uint32_t port = 0;  // kNoPort for DEVICE_READY
  ControlEvent event = ControlEvent::kDeviceReady;
  bool value = false;
};

// The named checks, each returning what is wrong with its evidence, or nothing.
[[nodiscard]] std::optional<std::string> check_message_length(std::uint64_t length);
[[nodiscard]] std::optional<std::string> check_driver_event(std::uint16_t event);
[[nodiscard]] std::optional<std::string> check_message_value(std::uint16_t event, std::uint16_t value);
[[nodiscard]] std::optional<std::string> check_message_port(std::uint16_t event, std::uint32_t port,
                                                            std::uint32_t port_count);

// Decodes a message the driver sent: `bytes` is the first up to 8 bytes of its chain, `length` the
// chain's readable bytes as the driver declared them. The first failing check is the error.
[[nodiscard]] tl::expected<DriverMessage, std::string> parse_driver_message(std::span<const std::uint8_t> bytes,
                                                                            std::uint64_t length,
                                                                            std::uint32_t port_count);

}  // namespace tilehv::vdevices::console
