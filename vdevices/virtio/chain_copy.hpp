// Chain copy: bytes between a checked descriptor chain in guest memory and the device, for every
// device model (control messages, frames, packets).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include <tl/expected.hpp>

#include "memory/guest_memory.hpp"
#include "virtio/split_queue.hpp"

namespace tilehv::vdevices::virtio {

// Copies the first bytes of the chain's device-readable buffers into `out`; returns how many.
[[nodiscard]] tl::expected<std::size_t, std::string> gather(const memory::GuestMemory& memory, const DescriptorChain& chain,
                                                            std::span<std::uint8_t> out);

// Copies `in` into the chain's device-writable buffers, in order; returns how many bytes fit.
[[nodiscard]] tl::expected<std::size_t, std::string> scatter(const memory::GuestMemory& memory, const DescriptorChain& chain,
                                                             std::span<const std::uint8_t> in);

}  // namespace tilehv::vdevices::virtio
