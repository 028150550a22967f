// Hello: the smallest useful kernel; prints the boot information it received and exits 0.
//
// Output: the greeting, the command line, one line of memory, one line per module (CRC-32 IEEE, as
// zlib's crc32). With verbose=1 on the command line, also every memory-map entry and the TSC source.
// Every byte costs a VM exit, so the default output stays short: hello is also the boot benchmark.
#include <guest/checksum.hpp>
#include <guest/kernel.hpp>
#include <guest/phys_memory.hpp>

using namespace guest;

int kernel_main() {
  print("Hello from tilehv guest\n");
  print("cmdline: {}\n", boot_info::cmdline());
  const bool verbose = cmdline::get_u64("verbose", 0) != 0;

  uint64_t ram_bytes = 0;
  size_t ram_ranges = 0;
  for (size_t i = 0; i < boot_info::memory_region_count(); ++i) {
    const boot_info::MemoryRegion r = boot_info::memory_region(i);
    if (r.size == 0) continue;  // some loaders pad the map with empty entries
    if (verbose) {
      print("memmap: {:#014x}-{:#014x} {}\n", r.base, r.base + r.size - 1, boot_info::memory_type_name(r.type));
    }
    if (r.type == boot_info::MemoryType::ram) {
      ram_bytes += r.size;
      ++ram_ranges;
    }
  }
  print("memory: {} MiB ram in {} ranges, {} MiB free\n", ram_bytes >> 20, ram_ranges, phys_memory::free_bytes() >> 20);
  if (verbose) print("tsc: {} kHz from {}\n", time::tsc_khz(), time::tsc_source_name());

  for (size_t i = 0; i < boot_info::module_count(); ++i) {
    const boot_info::Module m = boot_info::module(i);
    // SAFETY: modules lie in the identity-mapped RAM the loader reported; the size comes with them.
    const uint32_t crc = m.base + m.size <= (uint64_t{1} << 32)
                             ? checksum::crc32(reinterpret_cast<const void*>(m.base), m.size)
                             : 0;
    print("module {}: size {} crc32 {:08x} cmdline \"{}\"\n", i, m.size, crc, m.cmdline);
  }
  return 0;
}
