// ByteRing: a bounded FIFO of bytes with a fixed capacity, allocated once; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tilehv::vdevices::console {

class ByteRing {
 public:
  explicit ByteRing(std::size_t capacity) : bytes_(capacity) {}

  // Appends as many bytes as fit and returns how many.
  std::size_t push(std::span<const std::uint8_t> in) noexcept;
  // Removes up to `out.size()` bytes, oldest first, and returns how many.
  std::size_t pop(std::span<std::uint8_t> out) noexcept;

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return bytes_.size(); }
  [[nodiscard]] std::size_t room() const noexcept { return bytes_.size() - size_; }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t head_ = 0;  // the oldest byte
  std::size_t size_ = 0;
};

}  // namespace tilehv::vdevices::console
