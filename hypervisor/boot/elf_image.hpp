// ElfImage: what a PVH kernel image asks to be loaded, parsed from a hostile file.
#pragma once

#include <cstdint>
#include <vector>

#include <tl/expected.hpp>

#include "boot/boot_error.hpp"
#include "boot/image_file.hpp"

namespace tilehv::boot {

// Bounds on what a kernel image may declare. Real kernels use a handful of program headers and a few
// hundred bytes of notes; anything beyond these is refused rather than walked.
inline constexpr std::uint32_t kMaxProgramHeaders = 64;
inline constexpr std::uint64_t kMaxNoteSegmentBytes = 64 * 1024;
inline constexpr std::uint64_t kMaxKernelImageBytes = 512ULL * 1024 * 1024;

struct LoadSegment {
  std::uint32_t index = 0;  // program header index, for messages
  std::uint64_t file_offset = 0;
  std::uint64_t file_size = 0;
  std::uint64_t guest_address = 0;  // p_paddr: PVH images are loaded at physical addresses
  std::uint64_t memory_size = 0;
  bool executable = false;

  [[nodiscard]] std::uint64_t end() const { return guest_address + memory_size; }
};

struct ElfImage {
  bool is_64bit = false;
  std::vector<LoadSegment> segments;  // non-empty, pairwise disjoint, no address overflow
  std::uint32_t pvh_entry = 0;        // 32-bit physical entry point from XEN_ELFNOTE_PHYS32_ENTRY
};

// Parses and checks everything that can be checked without knowing the guest's memory.
[[nodiscard]] tl::expected<ElfImage, BootError> parse_elf_image(const ImageFile& file);

}  // namespace tilehv::boot
