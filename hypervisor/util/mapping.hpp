// Mapping: sole owner of an mmap'd region, unmapped exactly once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <tl/expected.hpp>

namespace tilehv::util {

class Mapping {
 public:
  Mapping() noexcept = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  Mapping(Mapping&& other) noexcept;
  Mapping& operator=(Mapping&& other) noexcept;
  ~Mapping();

  // Maps `length` bytes of `fd` at `offset` (fd -1 for anonymous memory). On failure, returns errno.
  [[nodiscard]] static tl::expected<Mapping, int> map(std::size_t length, int prot, int flags, int fd,
                                                      std::size_t offset) noexcept;

  [[nodiscard]] std::uint8_t* data() const noexcept { return static_cast<std::uint8_t*>(addr_); }
  [[nodiscard]] std::size_t size() const noexcept { return length_; }
  [[nodiscard]] std::span<std::uint8_t> bytes() const noexcept { return {data(), length_}; }

 private:
  Mapping(void* addr, std::size_t length) noexcept : addr_(addr), length_(length) {}
  void reset() noexcept;

  void* addr_ = nullptr;
  std::size_t length_ = 0;
};

}  // namespace tilehv::util
