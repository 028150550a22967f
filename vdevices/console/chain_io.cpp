// Chain I/O: moving bytes between a checked descriptor chain in guest memory and the device: the
// control messages (gather, scatter) and the port data (to and from a backend).
#include "console/chain_io.hpp"

#include <algorithm>
#include <cstring>

namespace tilehv::vdevices::console {
namespace {

// The queue checked every buffer against guest RAM when it walked the chain; slice() checks again,
// because the check is cheap and this is where guest memory is touched.
tl::expected<std::span<std::uint8_t>, std::string> view(const memory::GuestMemory& memory, const virtio::Buffer& b,
                                                         std::uint64_t skip, std::uint64_t length) {
  auto s = memory.slice(b.address + skip, length);
  if (!s) return tl::unexpected(s.error().describe());
  return *s;
}

}  // namespace

tl::expected<std::uint64_t, std::string> deliver_to_backend(const memory::GuestMemory& memory,
                                                            const virtio::DescriptorChain& chain, std::uint64_t offset,
                                                            ConsolePortBackend& backend) {
  std::uint64_t start = 0;  // chain offset of the current buffer
  for (const virtio::Buffer& b : chain.buffers) {
    if (b.device_writable) break;
    const std::uint64_t end = start + b.length;
    if (offset < end) {
      const std::uint64_t skip = offset - start;
      auto src = view(memory, b, skip, b.length - skip);
      if (!src) return tl::unexpected(src.error());
      const std::size_t taken = std::min(backend.write(*src), src->size());  // a backend cannot take more
      offset += taken;
      if (taken < src->size()) break;  // the backend is full: the rest waits for its wake-up
    }
    start = end;
  }
  return offset;
}

tl::expected<std::uint32_t, std::string> fill_from_backend(const memory::GuestMemory& memory,
                                                           const virtio::DescriptorChain& chain, std::uint32_t max,
                                                           ConsolePortBackend& backend) {
  std::uint32_t done = 0;
  for (const virtio::Buffer& b : chain.buffers) {
    if (!b.device_writable) continue;
    if (done == max) break;
    const std::uint32_t want = std::min(b.length, max - done);
    auto dst = view(memory, b, 0, want);
    if (!dst) return tl::unexpected(dst.error());
    const auto got = static_cast<std::uint32_t>(std::min<std::size_t>(backend.read(*dst), want));
    done += got;
    if (got < want) break;  // nothing more pending: return what the guest can have now
  }
  return done;
}

}  // namespace tilehv::vdevices::console
