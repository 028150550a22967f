// DeviceBus: maps address ranges (I/O ports or MMIO) to the devices registered there.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <tl/expected.hpp>

namespace tilehv::bus {

// Ranges are registered while the VM is built and the bus is read-only once vCPUs run, so lookups
// need no lock. Lookup is a binary search over a sorted, non-overlapping vector.
template <typename Device>
class DeviceBus {
 public:
  struct Entry {
    std::uint64_t base;
    std::uint64_t length;
    Device* device;
    std::string name;
  };
  struct Match {
    Device* device;
    std::uint64_t offset;
  };

  [[nodiscard]] tl::expected<void, std::string> add(std::uint64_t base, std::uint64_t length, Device& device,
                                                    std::string name) {
    if (length == 0 || length - 1 > UINT64_MAX - base) {
      return tl::unexpected(fmt::format("{}: invalid range {:#x}+{:#x}", name, base, length));
    }
    for (const Entry& e : entries_) {
      if (base <= e.base + (e.length - 1) && e.base <= base + (length - 1)) {
        return tl::unexpected(fmt::format("{} at [{:#x}, {:#x}] overlaps {} at [{:#x}, {:#x}]", name, base,
                                          base + length - 1, e.name, e.base, e.base + e.length - 1));
      }
    }
    const auto at = std::lower_bound(entries_.begin(), entries_.end(), base,
                                     [](const Entry& e, std::uint64_t b) { return e.base < b; });
    entries_.insert(at, Entry{base, length, &device, std::move(name)});
    return {};
  }

  // The device whose range holds the whole access [address, address + size).
  [[nodiscard]] std::optional<Match> find(std::uint64_t address, std::uint64_t size) const noexcept {
    auto it = std::upper_bound(entries_.begin(), entries_.end(), address,
                               [](std::uint64_t a, const Entry& e) { return a < e.base; });
    if (it == entries_.begin()) return std::nullopt;
    --it;
    const std::uint64_t offset = address - it->base;
    if (offset >= it->length || size > it->length - offset) return std::nullopt;
    return Match{it->device, offset};
  }

  [[nodiscard]] const std::vector<Entry>& entries() const noexcept { return entries_; }

 private:
  std::vector<Entry> entries_;
};

}  // namespace tilehv::bus
