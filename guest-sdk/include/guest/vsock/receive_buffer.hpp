// vsock receive buffer: the bytes a connection received and its application has not read yet, with
// the counters the receiving half of credit-based flow control (virtio 1.2 spec 5.10.6.3) is made of.
//
// The buffer is what this side advertises as buf_alloc. rx_cnt counts every byte received, fwd_cnt
// every byte the application consumed; rx_cnt - fwd_cnt bytes are waiting. A peer that honours the
// credit can never have more than buf_alloc bytes unread plus in flight, so the ring cannot overflow;
// a payload that would overflow it is a credit violation and is refused whole.
#pragma once

#include <cstddef>
#include <cstdint>

namespace guest::vsock {

class ReceiveBuffer {
 public:
  static constexpr uint32_t kSize = 64 * 1024;  // a power of two: positions are counters modulo kSize
  // A CREDIT_UPDATE is worth a packet once the application has freed this much since the peer last
  // heard fwd_cnt: less would cost a packet per read, and the peer still has at least
  // kSize - kUpdateThreshold - unread bytes of credit meanwhile.
  static constexpr uint32_t kUpdateThreshold = kSize / 4;
  static_assert((kSize & (kSize - 1)) == 0);

  // Empties the buffer and zeroes the counters, for a new connection.
  void reset();

  // Appends a payload; false (nothing stored) if it does not fit in the free space.
  bool append(const uint8_t* data, uint32_t size);
  // Copies up to capacity of the oldest unread bytes out and frees them; returns how many.
  size_t read(void* out, size_t capacity);
  // Counts size more received bytes, and everything unread, as consumed without storing them: a
  // receive side that was shut down. False, as append(), when size exceeds the free space.
  bool discard(uint32_t size);

  [[nodiscard]] uint32_t unread() const { return rx_cnt_ - fwd_cnt_; }
  [[nodiscard]] uint32_t fwd_cnt() const { return fwd_cnt_; }
  // Whether enough was consumed since the last advertisement to send a CREDIT_UPDATE.
  [[nodiscard]] bool update_due() const { return fwd_cnt_ - advertised_fwd_cnt_ >= kUpdateThreshold; }
  // Records that a packet carrying the current fwd_cnt went out.
  void advertised() { advertised_fwd_cnt_ = fwd_cnt_; }

 private:
  uint32_t rx_cnt_ = 0;
  uint32_t fwd_cnt_ = 0;
  uint32_t advertised_fwd_cnt_ = 0;
  // No initializer: the bytes are written before they are read, and the 64 KiB stay in .bss.
  uint8_t ring_[kSize];
};

}  // namespace guest::vsock
