// PVH boot layout: where tilehv puts the start info, memory map, module list and command line.
#pragma once

#include <cstdint>

namespace tilehv::boot {

// All boot structures live in one low zone that kernels must not load over. It sits below the
// conventional 1 MiB load address and away from page 0 and the AP trampoline pages guests choose.
inline constexpr std::uint64_t kBootZoneStart = 0x7000;
inline constexpr std::uint64_t kStartInfoAddress = 0x7000;
inline constexpr std::uint64_t kMemmapAddress = 0x7040;
inline constexpr std::uint32_t kMaxMemmapEntries = 8;
inline constexpr std::uint64_t kModlistAddress = 0x7100;
inline constexpr std::uint32_t kMaxModules = 32;
inline constexpr std::uint64_t kCmdlineAddress = 0x8000;
// Including the terminating NUL. Linux accepts 2048 on x86; PVH guests can take more.
inline constexpr std::uint64_t kMaxCmdlineBytes = 4096;
inline constexpr std::uint64_t kBootZoneEnd = 0x9000;

static_assert(kMemmapAddress + kMaxMemmapEntries * 24 <= kModlistAddress);
static_assert(kModlistAddress + kMaxModules * 32 <= kCmdlineAddress);
static_assert(kCmdlineAddress + kMaxCmdlineBytes <= kBootZoneEnd);

}  // namespace tilehv::boot
