// HostChannel byte queue: a ring over storage taken on first use.
#include "ioplane/host_channel_bytes.hpp"

#include <algorithm>
#include <cstring>

namespace tilehv::ioplane {

std::size_t HostChannelBytes::push(std::span<const std::uint8_t> bytes) {
  const std::size_t n = std::min(bytes.size(), room());
  if (n == 0) return 0;
  if (ring_.empty()) ring_.resize(capacity_);
  const std::size_t tail = (head_ + size_) % capacity_;
  const std::size_t first = std::min(n, capacity_ - tail);
  std::memcpy(ring_.data() + tail, bytes.data(), first);
  std::memcpy(ring_.data(), bytes.data() + first, n - first);
  size_ += n;
  return n;
}

std::size_t HostChannelBytes::pop(std::span<std::uint8_t> out) {
  const std::size_t n = std::min(out.size(), size_);
  if (n == 0) return 0;
  const std::size_t first = std::min(n, capacity_ - head_);
  std::memcpy(out.data(), ring_.data() + head_, first);
  std::memcpy(out.data() + first, ring_.data(), n - first);
  head_ = (head_ + n) % capacity_;
  size_ -= n;
  return n;
}

void HostChannelBytes::clear() {
  std::vector<std::uint8_t>().swap(ring_);
  head_ = 0;
  size_ = 0;
}

}  // namespace tilehv::ioplane
