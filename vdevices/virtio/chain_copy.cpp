// Chain copy: bytes between a checked descriptor chain in guest memory and the device.
#include "virtio/chain_copy.hpp"

#include <algorithm>
#include <cstring>

namespace tilehv::vdevices::virtio {
namespace {

// The queue checked every buffer against guest RAM when it walked the chain; slice() checks again,
// because the check is cheap and this is where guest memory is touched.
tl::expected<std::span<std::uint8_t>, std::string> view(const memory::GuestMemory& memory, const Buffer& b,
                                                         std::uint64_t skip, std::uint64_t length) {
  auto s = memory.slice(b.address + skip, length);
  if (!s) return tl::unexpected(s.error().describe());
  return *s;
}

}  // namespace

tl::expected<std::size_t, std::string> gather(const memory::GuestMemory& memory, const DescriptorChain& chain,
                                              std::span<std::uint8_t> out) {
  std::size_t done = 0;
  for (const Buffer& b : chain.buffers) {
    if (b.device_writable || done == out.size()) break;  // readable buffers come first (spec 2.7.4.2)
    const std::size_t n = std::min<std::size_t>(b.length, out.size() - done);
    auto src = view(memory, b, 0, n);
    if (!src) return tl::unexpected(src.error());
    std::memcpy(out.data() + done, src->data(), n);
    done += n;
  }
  return done;
}

tl::expected<std::size_t, std::string> scatter(const memory::GuestMemory& memory, const DescriptorChain& chain,
                                               std::span<const std::uint8_t> in) {
  std::size_t done = 0;
  for (const Buffer& b : chain.buffers) {
    if (!b.device_writable) continue;
    if (done == in.size()) break;
    const std::size_t n = std::min<std::size_t>(b.length, in.size() - done);
    auto dst = view(memory, b, 0, n);
    if (!dst) return tl::unexpected(dst.error());
    std::memcpy(dst->data(), in.data() + done, n);
    done += n;
  }
  return done;
}

}  // namespace tilehv::vdevices::virtio
