// Physical memory: the RAM a kernel may use freely.
//
// Free RAM is the memory-map RAM (below 4 GiB, page-aligned inward) minus the first page, the kernel
// image (code, data, bss with stacks and page tables), the start info and everything it points to,
// the modules, and the AP trampoline page.
#pragma once

#include <cstddef>
#include <cstdint>

namespace guest::phys_memory {

struct Range {
  uint64_t base;
  uint64_t size;
};

// Most free ranges reported; the memory map and the excluded ranges are both bounded, so the real
// count stays far below this.
inline constexpr size_t max_free_ranges = 256;

// Fills ranges with the free RAM in ascending order; returns the count.
size_t free_ranges(Range* ranges, size_t capacity);
uint64_t free_bytes();

// Picks a free page below 1 MiB for the AP trampoline and reserves it; 0 when there is none.
uint64_t reserve_trampoline_page();
uint64_t trampoline_page();

}  // namespace guest::phys_memory
