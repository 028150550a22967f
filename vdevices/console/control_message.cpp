// Console control messages (virtio 1.2 spec 5.3.6.2): the 8-byte header both control queues carry,
// its encoding towards the driver, and the named checks every message from the driver passes.
#include "console/control_message.hpp"

#include <fmt/format.h>

namespace tilehv::vdevices::console {
namespace {

bool is_port_event(std::uint16_t event) {
  return event == static_cast<std::uint16_t>(ControlEvent::kPortReady) ||
         event == static_cast<std::uint16_t>(ControlEvent::kPortOpen);
}

void put_le(std::vector<std::uint8_t>& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

std::uint64_t get_le(std::span<const std::uint8_t> bytes, std::size_t at, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= std::uint64_t{bytes[at + static_cast<std::size_t>(i)]} << (8 * i);
  return v;
}

}  // namespace

std::string_view event_name(std::uint16_t event) noexcept {
  switch (event) {
    case 0: return "DEVICE_READY";
    case 1: return "DEVICE_ADD";
    case 2: return "DEVICE_REMOVE";
    case 3: return "PORT_READY";
    case 4: return "CONSOLE_PORT";
    case 5: return "RESIZE";
    case 6: return "PORT_OPEN";
    case 7: return "PORT_NAME";
    default: return "unknown";
  }
}

std::vector<std::uint8_t> encode(const OutgoingMessage& message, std::string_view name) {
  std::vector<std::uint8_t> out;
  const bool named = message.event == ControlEvent::kPortName;
  out.reserve(kControlHeaderBytes + (named ? name.size() : 0));
  put_le(out, message.port, 4);
  put_le(out, static_cast<std::uint16_t>(message.event), 2);
  put_le(out, message.value, 2);
  if (named) out.insert(out.end(), name.begin(), name.end());
  return out;
}

std::optional<std::string> check_message_length(std::uint64_t length) {
  // Spec 5.3.6.2: a driver's message is exactly the header; nothing it sends carries a payload.
  if (length == kControlHeaderBytes) return std::nullopt;
  return fmt::format("control message of {} bytes, expected {}", length, kControlHeaderBytes);
}

std::optional<std::string> check_driver_event(std::uint16_t event) {
  switch (static_cast<ControlEvent>(event)) {
    case ControlEvent::kDeviceReady:
    case ControlEvent::kPortReady:
    case ControlEvent::kPortOpen:
      return std::nullopt;
    case ControlEvent::kDeviceAdd:
    case ControlEvent::kDeviceRemove:
    case ControlEvent::kConsolePort:
    case ControlEvent::kResize:
    case ControlEvent::kPortName:
      return fmt::format("control event {} ({}) goes from device to driver only", event, event_name(event));
  }
  return fmt::format("unknown control event {}", event);
}

std::optional<std::string> check_message_value(std::uint16_t event, std::uint16_t value) {
  // DEVICE_READY, PORT_READY and PORT_OPEN all carry a success or open flag.
  if (value <= 1) return std::nullopt;
  return fmt::format("{} with value {}, expected 0 or 1", event_name(event), value);
}

std::optional<std::string> check_message_port(std::uint16_t event, std::uint32_t port, std::uint32_t port_count) {
  // DEVICE_READY names no port (Linux sends 0xffffffff); its id is ignored.
  if (!is_port_event(event) || port < port_count) return std::nullopt;
  return fmt::format("{} for port {}, the device has {} ports", event_name(event), port, port_count);
}

tl::expected<DriverMessage, std::string> parse_driver_message(std::span<const std::uint8_t> bytes, std::uint64_t length,
                                                              std::uint32_t port_count) {
  if (auto finding = check_message_length(length)) return tl::unexpected(*finding);
  if (bytes.size() < kControlHeaderBytes) {
    return tl::unexpected(fmt::format("control message truncated to {} bytes", bytes.size()));
  }
  const auto port = static_cast<std::uint32_t>(get_le(bytes, 0, 4));
  const auto event = static_cast<std::uint16_t>(get_le(bytes, 4, 2));
  const auto value = static_cast<std::uint16_t>(get_le(bytes, 6, 2));
  if (auto finding = check_driver_event(event)) return tl::unexpected(*finding);
  if (auto finding = check_message_value(event, value)) return tl::unexpected(*finding);
  if (auto finding = check_message_port(event, port, port_count)) return tl::unexpected(*finding);
  return DriverMessage{port, static_cast<ControlEvent>(event), value == 1};
}

}  // namespace tilehv::vdevices::console
