// VirtioConsole, port data (spec 5.3.6): the guest's bytes from a port's transmit queue to its
// backend, with back-pressure, and the backend's bytes into the port's receive queue.
#include <fmt/format.h>

#include "console/chain_io.hpp"
#include "console/virtio_console.hpp"

namespace tilehv::vdevices {

tl::expected<void, std::string> VirtioConsole::serve_port(std::uint32_t port) {
  if (auto sent = serve_transmit(port); !sent) return sent;
  return serve_receive(port);
}

tl::expected<void, std::string> VirtioConsole::serve_transmit(std::uint32_t port) {
  const std::uint16_t index = transmit_queue(port);
  PortState& state = ports_[port];
  ConsolePortBackend& backend = *config_[port].backend;
  for (;;) {
    if (!state.held_transmit) {
      auto next = next_chain(index);
      if (!next) return tl::unexpected(next.error());
      if (!next->has_value()) return {};
      // Spec 5.3.6: the driver must not put a device-writable buffer in a transmit queue.
      if ((*next)->writable_bytes != 0) {
        return tl::unexpected(fmt::format("transmit chain {} of port {} has {} device-writable bytes", (*next)->head,
                                          port, (*next)->writable_bytes));
      }
      state.held_transmit = std::move(**next);
      state.transmit_offset = 0;
    }
    const virtio::DescriptorChain& chain = *state.held_transmit;
    auto offset = console::deliver_to_backend(memory_, chain, state.transmit_offset, backend);
    if (!offset) return tl::unexpected(offset.error());
    metrics_.bytes_from_guest.fetch_add(*offset - state.transmit_offset, std::memory_order_relaxed);
    state.transmit_offset = *offset;
    if (*offset < chain.readable_bytes) {
      // Back-pressure: the chain stays with the device, unused, until the backend wakes the port. The
      // guest sees it pending, exactly as if it were still in the queue.
      metrics_.transmit_stalls.fetch_add(1, std::memory_order_relaxed);
      return {};
    }
    if (auto done = complete(index, chain.head, 0); !done) return done;
    state.held_transmit.reset();
    state.transmit_offset = 0;
  }
}

tl::expected<void, std::string> VirtioConsole::serve_receive(std::uint32_t port) {
  if (!port_receives(port)) return {};
  const std::uint16_t index = receive_queue(port);
  PortState& state = ports_[port];
  ConsolePortBackend& backend = *config_[port].backend;
  for (;;) {
    if (!state.held_receive) {
      auto next = next_chain(index);
      if (!next) return tl::unexpected(next.error());
      if (!next->has_value()) return {};
      // Spec 5.3.6: the driver must not put a device-readable buffer in a receive queue; a chain with
      // no room at all could never be returned.
      if ((*next)->readable_bytes != 0 || (*next)->writable_bytes == 0) {
        return tl::unexpected(fmt::format("receive chain {} of port {} has {} device-readable and {} device-writable bytes",
                                          (*next)->head, port, (*next)->readable_bytes, (*next)->writable_bytes));
      }
      state.held_receive = std::move(**next);
    }
    const virtio::DescriptorChain& chain = *state.held_receive;
    auto written = console::fill_from_backend(memory_, chain, kMaxBytesPerReceive, backend);
    if (!written) return tl::unexpected(written.error());
    // Nothing pending: the chain waits with the device for the backend's wake-up (no empty completions,
    // which a driver would only have to re-queue).
    if (*written == 0) return {};
    if (auto done = complete(index, chain.head, *written); !done) return done;
    metrics_.bytes_to_guest.fetch_add(*written, std::memory_order_relaxed);
    state.held_receive.reset();
  }
}

}  // namespace tilehv::vdevices
