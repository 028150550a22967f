// Chain I/O: moving bytes between a checked descriptor chain in guest memory and the device: the
// control messages (gather, scatter) and the port data (to and from a backend).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include <tl/expected.hpp>

#include "console/console_port_backend.hpp"
#include "memory/guest_memory.hpp"
#include "virtio/chain_copy.hpp"
#include "virtio/split_queue.hpp"

namespace tilehv::vdevices::console {

// Control messages move with the generic chain copies.
using virtio::gather;
using virtio::scatter;

// Offers the chain's device-readable bytes from `offset` on to `backend`, buffer by buffer, until it
// takes less than offered; returns the new offset (bytes of the chain delivered so far).
[[nodiscard]] tl::expected<std::uint64_t, std::string> deliver_to_backend(const memory::GuestMemory& memory,
                                                                          const virtio::DescriptorChain& chain,
                                                                          std::uint64_t offset,
                                                                          ConsolePortBackend& backend);

// Lets `backend` fill the chain's device-writable buffers, in order, up to `max` bytes, until it
// returns less than asked for; returns the bytes written.
[[nodiscard]] tl::expected<std::uint32_t, std::string> fill_from_backend(const memory::GuestMemory& memory,
                                                                         const virtio::DescriptorChain& chain,
                                                                         std::uint32_t max,
                                                                         ConsolePortBackend& backend);

}  // namespace tilehv::vdevices::console
