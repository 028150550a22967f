// Boot info: the PVH start info (command line, memory map, modules), read with bounds.
//
// The start info comes from our own VMM but is still treated as untrusted input: every count and
// string length is capped and every pointer must lie in the identity-mapped first 4 GiB.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/str_view.hpp>

namespace guest::boot_info {

// E820 / hvm_memmap_table_entry types.
enum class MemoryType : uint32_t { ram = 1, reserved = 2, acpi = 3, nvs = 4, unusable = 5, disabled = 6, pmem = 7 };

struct MemoryRegion {
  uint64_t base;
  uint64_t size;
  MemoryType type;
};

struct Module {
  uint64_t base;  // guest-physical address
  uint64_t size;
  StrView cmdline;  // empty when the module has none
};

// Caps on what the SDK reads from the start info; anything beyond is ignored.
inline constexpr size_t max_cmdline_length = 4096;
inline constexpr size_t max_memory_regions = 128;
inline constexpr size_t max_modules = 64;

// Checks and records the start info; returns false when the magic or version is wrong.
[[nodiscard]] bool init(uint64_t start_info_address);

uint64_t start_info_address();
StrView cmdline();
size_t memory_region_count();
MemoryRegion memory_region(size_t index);
size_t module_count();
Module module(size_t index);
const char* memory_type_name(MemoryType type);

// Every range of guest memory the start info occupies or points to (the structure itself, the command
// lines, the module list, the memory map); calls fn(base, size) for each. Modules themselves are not
// included.
template <typename Fn>
void for_each_boot_data_range(Fn&& fn);

namespace detail {
struct BootDataRange {
  uint64_t base;
  uint64_t size;
};
// Fills ranges (up to capacity) and returns how many there are.
size_t boot_data_ranges(BootDataRange* ranges, size_t capacity);
}  // namespace detail

template <typename Fn>
void for_each_boot_data_range(Fn&& fn) {
  detail::BootDataRange ranges[max_modules + 4];
  const size_t n = detail::boot_data_ranges(ranges, sizeof(ranges) / sizeof(ranges[0]));
  for (size_t i = 0; i < n; ++i) fn(ranges[i].base, ranges[i].size);
}

}  // namespace guest::boot_info
