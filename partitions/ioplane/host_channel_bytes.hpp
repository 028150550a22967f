// HostChannel byte queue: a bounded FIFO of stream bytes, the receive buffer and the send queue of one
// host connection. Its storage is taken on the first push and given back by clear(), so an idle
// connection costs no buffer and a busy one never more than its capacity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tilehv::ioplane {

class HostChannelBytes {
 public:
  HostChannelBytes() = default;
  explicit HostChannelBytes(std::size_t capacity) : capacity_(capacity) {}

  // Appends as many bytes as fit; returns how many.
  std::size_t push(std::span<const std::uint8_t> bytes);
  // Copies up to out.size() of the oldest bytes into out and removes them; returns how many.
  std::size_t pop(std::span<std::uint8_t> out);
  // Empties the queue and frees its storage.
  void clear();

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t room() const noexcept { return capacity_ - size_; }

 private:
  std::size_t capacity_ = 0;
  std::vector<std::uint8_t> ring_;  // empty until the first push, then capacity_ bytes
  std::size_t head_ = 0;            // offset of the oldest byte
  std::size_t size_ = 0;
};

}  // namespace tilehv::ioplane
