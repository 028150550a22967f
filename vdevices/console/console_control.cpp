// VirtioConsole, control queues (spec 5.3.6.2): messages from the driver on the control transmit
// queue, the device's announcements on the control receive queue.
#include <fmt/format.h>

#include "console/chain_io.hpp"
#include "console/virtio_console.hpp"

namespace tilehv::vdevices {
namespace {

using console::ControlEvent;

// Each port is announced with at most four messages (DEVICE_ADD, PORT_NAME, CONSOLE_PORT, PORT_OPEN),
// once per driver: the outbox never holds more.
constexpr std::size_t kMaxOutbox = 4 * VirtioConsole::kMaxPorts;

}  // namespace

tl::expected<void, std::string> VirtioConsole::serve_control() {
  // Driver to device first: a DEVICE_READY found here queues the announcements sent below.
  for (;;) {
    auto next = next_chain(kControlTransmitQueue);
    if (!next) return tl::unexpected(next.error());
    if (!next->has_value()) break;
    const virtio::DescriptorChain chain = std::move(**next);
    // Spec 5.3.6: the driver must not put a device-writable buffer in a transmit queue.
    if (chain.writable_bytes != 0) {
      return tl::unexpected(fmt::format("control transmit chain {} has {} device-writable bytes", chain.head,
                                        chain.writable_bytes));
    }
    std::uint8_t raw[console::kControlHeaderBytes] = {};
    auto got = console::gather(memory_, chain, raw);
    if (!got) return tl::unexpected(got.error());
    auto message = console::parse_driver_message({raw, *got}, chain.readable_bytes, port_count());
    if (!message) return tl::unexpected(fmt::format("control transmit chain {}: {}", chain.head, message.error()));
    metrics_.control_from_driver.fetch_add(1, std::memory_order_relaxed);
    if (auto handled = handle(*message); !handled) return handled;
    if (auto done = complete(kControlTransmitQueue, chain.head, 0); !done) return done;
  }
  if (auto sent = send_control(); !sent) return sent;
  // A port the driver just opened may have host bytes waiting in its backend.
  while (!opened_.empty()) {
    const std::uint32_t port = opened_.back();
    opened_.pop_back();
    if (auto served = serve_receive(port); !served) return served;
  }
  return {};
}

tl::expected<void, std::string> VirtioConsole::handle(const console::DriverMessage& message) {
  switch (message.event) {
    case ControlEvent::kDeviceReady:
      // Value 0: the driver failed to set up and will not use the ports. A second DEVICE_READY would
      // make us add ports that exist, which the device must not do (spec 5.3.6.2): it is ignored.
      if (!message.value || announced_) return {};
      if (outbox_.size() + 4 * ports_.size() > kMaxOutbox) return tl::unexpected(std::string("control outbox overflow"));
      announced_ = true;
      for (std::uint32_t p = 0; p < ports_.size(); ++p) {
        outbox_.push_back({p, ControlEvent::kDeviceAdd, 1});
        if (!config_[p].name.empty()) outbox_.push_back({p, ControlEvent::kPortName, 1});
        if (config_[p].is_console) outbox_.push_back({p, ControlEvent::kConsolePort, 1});
        // The host end of every port is connected from the start: its backend exists with the device.
        outbox_.push_back({p, ControlEvent::kPortOpen, 1});
      }
      return {};
    case ControlEvent::kPortReady:
    case ControlEvent::kPortOpen: {
      if (!announced_) {
        return tl::unexpected(fmt::format("{} for port {} before DEVICE_READY announced it",
                                          console::event_name(static_cast<std::uint16_t>(message.event)), message.port));
      }
      PortState& port = ports_[message.port];  // parse_driver_message checked the id
      if (message.event == ControlEvent::kPortReady) {
        port.guest_ready = message.value;
      } else {
        if (message.value && !port.guest_open) opened_.push_back(message.port);
        port.guest_open = message.value;
      }
      return {};
    }
    default:
      // parse_driver_message lets only the three driver events through.
      return tl::unexpected(fmt::format("control event {} reached the handler", static_cast<std::uint16_t>(message.event)));
  }
}

tl::expected<void, std::string> VirtioConsole::send_control() {
  while (!outbox_.empty()) {
    auto next = next_chain(kControlReceiveQueue);
    if (!next) return tl::unexpected(next.error());
    if (!next->has_value()) return {};  // the driver's next control receive buffer brings us back
    const virtio::DescriptorChain chain = std::move(**next);
    const console::OutgoingMessage& message = outbox_.front();
    const std::vector<std::uint8_t> bytes = console::encode(message, config_[message.port].name);
    // Spec 5.3.6: the driver must not put a device-readable buffer in a receive queue.
    if (chain.readable_bytes != 0) {
      return tl::unexpected(fmt::format("control receive chain {} has {} device-readable bytes", chain.head,
                                        chain.readable_bytes));
    }
    if (chain.writable_bytes < bytes.size()) {
      return tl::unexpected(fmt::format("control receive chain {} holds {} bytes, the {} message needs {}", chain.head,
                                        chain.writable_bytes,
                                        console::event_name(static_cast<std::uint16_t>(message.event)), bytes.size()));
    }
    auto written = console::scatter(memory_, chain, bytes);
    if (!written) return tl::unexpected(written.error());
    if (auto done = complete(kControlReceiveQueue, chain.head, static_cast<std::uint32_t>(*written)); !done) return done;
    outbox_.pop_front();
    metrics_.control_to_driver.fetch_add(1, std::memory_order_relaxed);
  }
  return {};
}

}  // namespace tilehv::vdevices
