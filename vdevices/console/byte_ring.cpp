// ByteRing: a bounded FIFO of bytes with a fixed capacity, allocated once; not thread-safe.
#include "console/byte_ring.hpp"

#include <algorithm>
#include <cstring>

namespace tilehv::vdevices::console {

std::size_t ByteRing::push(std::span<const std::uint8_t> in) noexcept {
  const std::size_t n = std::min(in.size(), room());
  const std::size_t cap = bytes_.size();
  std::size_t done = 0;
  while (done < n) {
    const std::size_t tail = (head_ + size_) % cap;
    const std::size_t run = std::min(n - done, cap - tail);  // up to the end of the storage
    std::memcpy(bytes_.data() + tail, in.data() + done, run);
    done += run;
    size_ += run;
  }
  return n;
}

std::size_t ByteRing::pop(std::span<std::uint8_t> out) noexcept {
  const std::size_t n = std::min(out.size(), size_);
  const std::size_t cap = bytes_.size();
  std::size_t done = 0;
  while (done < n) {
    const std::size_t run = std::min(n - done, cap - head_);
    std::memcpy(out.data() + done, bytes_.data() + head_, run);
    done += run;
    head_ = (head_ + run) % cap;
    size_ -= run;
  }
  return n;
}

}  // namespace tilehv::vdevices::console
