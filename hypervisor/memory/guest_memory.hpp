// GuestMemory: the partition's RAM, backed by a memfd and reached only through checked accessors.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <tl/expected.hpp>

#include "memory/memory_layout.hpp"
#include "util/mapping.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::memory {

enum class MemoryErrc {
  kOutOfRange,  // [address, address + length) is not entirely inside one RAM region
  kOverflow,    // address + length wraps around 2^64
};

struct MemoryError {
  MemoryErrc code;
  std::uint64_t address;
  std::uint64_t length;

  [[nodiscard]] std::string describe() const;
};

struct HostRegion {
  RamRegion ram;
  std::uint8_t* host;  // where ram.guest_address is mapped in this process
};

class GuestMemory {
 public:
  // Creates `size` bytes (page-aligned, kMinMemorySize..kMaxMemorySize) of zeroed guest RAM.
  [[nodiscard]] static tl::expected<GuestMemory, std::string> create(std::uint64_t size);

  // The only way to reach guest memory: the whole range [address, address + length) must lie in
  // one RAM region. Guest addresses and lengths are hostile until this returns a value.
  [[nodiscard]] tl::expected<std::span<std::uint8_t>, MemoryError> slice(std::uint64_t address,
                                                                        std::uint64_t length) const noexcept;

  [[nodiscard]] tl::expected<void, MemoryError> read(std::uint64_t address,
                                                     std::span<std::uint8_t> out) const noexcept;
  [[nodiscard]] tl::expected<void, MemoryError> write(std::uint64_t address,
                                                      std::span<const std::uint8_t> in) const noexcept;

  template <typename T>
  [[nodiscard]] tl::expected<T, MemoryError> read_object(std::uint64_t address) const noexcept {
    static_assert(std::is_trivially_copyable_v<T>);
    T value;
    // SAFETY: T is trivially copyable, so any byte pattern the guest wrote is a valid T to copy.
    auto r = read(address, std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(&value), sizeof(T)));
    if (!r) {
      return tl::unexpected(r.error());
    }
    return value;
  }

  template <typename T>
  [[nodiscard]] tl::expected<void, MemoryError> write_object(std::uint64_t address,
                                                             const T& value) const noexcept {
    static_assert(std::is_trivially_copyable_v<T>);
    return write(address, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(&value),
                                                        sizeof(T)));
  }

  [[nodiscard]] bool contains(std::uint64_t address, std::uint64_t length) const noexcept {
    return slice(address, length).has_value();
  }

  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] const std::vector<HostRegion>& regions() const noexcept { return regions_; }
  // The backing memfd, for snapshots, migration and audits.
  [[nodiscard]] int fd() const noexcept { return memfd_.get(); }

 private:
  GuestMemory(util::UniqueFd memfd, util::Mapping mapping, std::vector<HostRegion> regions,
              std::uint64_t size)
      : memfd_(std::move(memfd)), mapping_(std::move(mapping)), regions_(std::move(regions)), size_(size) {}

  util::UniqueFd memfd_;
  util::Mapping mapping_;
  std::vector<HostRegion> regions_;
  std::uint64_t size_;
};

}  // namespace tilehv::memory
