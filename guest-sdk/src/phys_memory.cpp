// Physical memory: the RAM a kernel may use freely.
#include <guest/phys_memory.hpp>

#include <guest/boot_info.hpp>

extern "C" char __image_start[], __image_end[];

namespace guest::phys_memory {
namespace {

constexpr uint64_t page_size = 4096;
constexpr uint64_t mapped_limit = uint64_t{1} << 32;
constexpr uint64_t low_memory_limit = 0x100000;
constexpr size_t max_excluded = boot_info::max_modules * 2 + 8;

// Chosen once by the boot CPU before kernel_main; 0 until then.
uint64_t trampoline_address = 0;

uint64_t align_down(uint64_t v) { return v & ~(page_size - 1); }
uint64_t align_up(uint64_t v) { return v > UINT64_MAX - (page_size - 1) ? UINT64_MAX & ~(page_size - 1) : align_down(v + page_size - 1); }

struct Excluded {
  Range ranges[max_excluded];
  size_t count = 0;

  void add(uint64_t base, uint64_t size) {
    if (size == 0 || count == max_excluded) return;
    const uint64_t end = size > UINT64_MAX - base ? UINT64_MAX : base + size;
    ranges[count++] = Range{align_down(base), align_up(end) - align_down(base)};
  }
  void sort() {
    for (size_t i = 1; i < count; ++i)
      for (size_t j = i; j > 0 && ranges[j].base < ranges[j - 1].base; --j) {
        const Range t = ranges[j];
        ranges[j] = ranges[j - 1];
        ranges[j - 1] = t;
      }
  }
};

void collect_excluded(Excluded& excluded) {
  excluded.add(0, page_size);
  const uint64_t image_start = reinterpret_cast<uintptr_t>(__image_start);
  excluded.add(image_start, reinterpret_cast<uintptr_t>(__image_end) - image_start);
  boot_info::for_each_boot_data_range([&](uint64_t base, uint64_t size) { excluded.add(base, size); });
  for (size_t i = 0; i < boot_info::module_count(); ++i) {
    const boot_info::Module m = boot_info::module(i);
    excluded.add(m.base, m.size);
  }
  if (trampoline_address != 0) excluded.add(trampoline_address, page_size);
  excluded.sort();
}

}  // namespace

size_t free_ranges(Range* out, size_t capacity) {
  Excluded excluded;
  collect_excluded(excluded);
  size_t count = 0;
  for (size_t r = 0; r < boot_info::memory_region_count(); ++r) {
    const boot_info::MemoryRegion region = boot_info::memory_region(r);
    if (region.type != boot_info::MemoryType::ram || region.base >= mapped_limit) continue;
    uint64_t base = align_up(region.base);
    const uint64_t region_end = region.size > mapped_limit - region.base ? mapped_limit : region.base + region.size;
    const uint64_t end = align_down(region_end);
    // Walk the sorted exclusions, emitting the gaps between them inside [base, end).
    for (size_t e = 0; e <= excluded.count && base < end; ++e) {
      const uint64_t gap_end = e < excluded.count && excluded.ranges[e].base < end ? excluded.ranges[e].base : end;
      if (gap_end > base && count < capacity) out[count++] = Range{base, gap_end - base};
      if (e < excluded.count) {
        const uint64_t excluded_end = excluded.ranges[e].base + excluded.ranges[e].size;
        if (excluded_end > base) base = excluded_end;
      }
    }
  }
  // Memory maps are normally sorted already; sort anyway so callers can rely on it.
  for (size_t i = 1; i < count; ++i)
    for (size_t j = i; j > 0 && out[j].base < out[j - 1].base; --j) {
      const Range t = out[j];
      out[j] = out[j - 1];
      out[j - 1] = t;
    }
  return count;
}

uint64_t free_bytes() {
  Range ranges[max_free_ranges];
  const size_t n = free_ranges(ranges, max_free_ranges);
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) total += ranges[i].size;
  return total;
}

uint64_t reserve_trampoline_page() {
  if (trampoline_address != 0) return trampoline_address;
  Range ranges[max_free_ranges];
  const size_t n = free_ranges(ranges, max_free_ranges);
  // The highest free page below 1 MiB: away from the low pages loaders like to use for boot data.
  for (size_t i = n; i-- > 0;) {
    if (ranges[i].base >= low_memory_limit) continue;
    const uint64_t end = ranges[i].base + ranges[i].size < low_memory_limit ? ranges[i].base + ranges[i].size : low_memory_limit;
    if (end - ranges[i].base >= page_size) {
      trampoline_address = end - page_size;
      return trampoline_address;
    }
  }
  return 0;
}

uint64_t trampoline_page() { return trampoline_address; }

}  // namespace guest::phys_memory
