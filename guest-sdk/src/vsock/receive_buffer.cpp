// vsock receive buffer: unread bytes of one connection and the receiving half of its credit.
#include <guest/vsock/receive_buffer.hpp>

namespace guest::vsock {

void ReceiveBuffer::reset() {
  rx_cnt_ = 0;
  fwd_cnt_ = 0;
  advertised_fwd_cnt_ = 0;
}

bool ReceiveBuffer::append(const uint8_t* data, uint32_t size) {
  if (size > kSize - unread()) return false;
  const uint32_t at = rx_cnt_ & (kSize - 1);
  const uint32_t first = size < kSize - at ? size : kSize - at;
  __builtin_memcpy(ring_ + at, data, first);
  __builtin_memcpy(ring_, data + first, size - first);
  rx_cnt_ += size;
  return true;
}

size_t ReceiveBuffer::read(void* out, size_t capacity) {
  const uint32_t size = capacity < unread() ? static_cast<uint32_t>(capacity) : unread();
  const uint32_t at = fwd_cnt_ & (kSize - 1);
  const uint32_t first = size < kSize - at ? size : kSize - at;
  auto* bytes = static_cast<uint8_t*>(out);
  __builtin_memcpy(bytes, ring_ + at, first);
  __builtin_memcpy(bytes + first, ring_, size - first);
  fwd_cnt_ += size;
  return size;
}

bool ReceiveBuffer::discard(uint32_t size) {
  // The credit check comes first: what was unread still counted against the peer's credit.
  if (size > kSize - unread()) return false;
  rx_cnt_ += size;
  fwd_cnt_ = rx_cnt_;
  return true;
}

}  // namespace guest::vsock
