// PVH loader: places a kernel's segments and modules in guest RAM and writes the hvm_start_info.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "boot/boot_error.hpp"
#include "boot/elf_image.hpp"
#include "boot/image_file.hpp"
#include "memory/guest_memory.hpp"

namespace tilehv::boot {

struct LoadedModule {
  std::uint64_t guest_address;
  std::uint64_t size;
};

struct PvhBoot {
  std::uint32_t entry;             // 32-bit physical entry
  std::uint64_t start_info_address;  // handed to the entry in %ebx
  std::vector<LoadedModule> modules;
};

// The guest RAM ranges reported in the PVH memory map (E820 type RAM) for `memory`.
[[nodiscard]] std::vector<memory::RamRegion> reported_ram(const memory::GuestMemory& memory);

// Loads `image` read from `kernel` into `memory`, then `modules` after the kernel, then the start
// info with the memory map and `cmdline`. Guest memory must be freshly created: zero-filled memory
// (p_memsz beyond p_filesz) is not written, because a new memfd already reads as zero and touching
// it would cost a page fault per page.
[[nodiscard]] tl::expected<PvhBoot, BootError> load_pvh(const memory::GuestMemory& memory,
                                                        const ImageFile& kernel, const ElfImage& image,
                                                        const std::string& cmdline,
                                                        std::span<const ImageFile> modules);

}  // namespace tilehv::boot
