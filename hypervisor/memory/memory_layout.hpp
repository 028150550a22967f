// Memory layout: where guest RAM, the MMIO hole and the boot structures sit in guest-physical space.
#pragma once

#include <cstdint>
#include <vector>

namespace tilehv::memory {

inline constexpr std::uint64_t kKiB = 1024;
inline constexpr std::uint64_t kMiB = 1024 * kKiB;
inline constexpr std::uint64_t kGiB = 1024 * kMiB;
inline constexpr std::uint64_t kPageSize = 4 * kKiB;

// RAM below the hole ends at 3 GiB; [3 GiB, 4 GiB) holds device MMIO (virtio, LAPIC at 0xfee00000,
// KVM's TSS at 0xfffbd000). RAM beyond 3 GiB continues at 4 GiB.
inline constexpr std::uint64_t kMmioHoleStart = 3 * kGiB;
inline constexpr std::uint64_t kMmioHoleEnd = 4 * kGiB;
inline constexpr std::uint64_t kKvmTssAddress = 0xfffb'd000;

// The memory map reports low RAM as [0, kEbdaStart) and [kHighMemoryStart, ...): the classic PC gap
// for the EBDA, VGA and BIOS ROMs, which Linux still expects to exist even without a BIOS.
inline constexpr std::uint64_t kEbdaStart = 0x9'fc00;
inline constexpr std::uint64_t kHighMemoryStart = 1 * kMiB;

inline constexpr std::uint64_t kMinMemorySize = 4 * kMiB;
// Bounded by what one VMM process should ever claim on a tile, far above any partition's need.
inline constexpr std::uint64_t kMaxMemorySize = 1024 * kGiB;

struct RamRegion {
  std::uint64_t guest_address;
  std::uint64_t size;
  std::uint64_t file_offset;  // offset in the guest memory file

  [[nodiscard]] std::uint64_t end() const { return guest_address + size; }
};

// RAM regions for `size` bytes of guest memory, split around the MMIO hole. `size` must be
// page-aligned.
[[nodiscard]] inline std::vector<RamRegion> ram_regions_for(std::uint64_t size) {
  if (size <= kMmioHoleStart) {
    return {{0, size, 0}};
  }
  return {{0, kMmioHoleStart, 0}, {kMmioHoleEnd, size - kMmioHoleStart, kMmioHoleStart}};
}

}  // namespace tilehv::memory
