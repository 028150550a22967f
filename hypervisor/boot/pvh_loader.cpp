// PVH loader: places a kernel's segments and modules in guest RAM and writes the hvm_start_info.
#include "boot/pvh_loader.hpp"

#include <xen/xen.h>
#include <xen/arch-x86/hvm/start_info.h>

#include <algorithm>

#include <fmt/format.h>

#include "boot/pvh_layout.hpp"

namespace tilehv::boot {
namespace {

using memory::kPageSize;
using memory::RamRegion;

constexpr std::uint32_t kE820Ram = 1;

std::uint64_t align_up(std::uint64_t v, std::uint64_t a) { return (v + a - 1) & ~(a - 1); }

bool inside_one(const std::vector<RamRegion>& ram, std::uint64_t start, std::uint64_t end) {
  return std::any_of(ram.begin(), ram.end(),
                     [&](const RamRegion& r) { return start >= r.guest_address && end <= r.end(); });
}

std::string describe_ram(const std::vector<RamRegion>& ram) {
  std::string s;
  for (const RamRegion& r : ram) {
    s += fmt::format("{}[{:#x}, {:#x})", s.empty() ? "" : " ", r.guest_address, r.end());
  }
  return s;
}

BootError placement_error(const std::string& what) { return BootError{BootErrc::kBadPlacement, what}; }

}  // namespace

std::vector<RamRegion> reported_ram(const memory::GuestMemory& memory) {
  std::vector<RamRegion> out;
  for (const memory::HostRegion& r : memory.regions()) {
    if (r.ram.guest_address == 0) {
      out.push_back({0, memory::kEbdaStart, 0});
      if (r.ram.size > memory::kHighMemoryStart) {
        out.push_back({memory::kHighMemoryStart, r.ram.size - memory::kHighMemoryStart, memory::kHighMemoryStart});
      }
    } else {
      out.push_back(r.ram);
    }
  }
  return out;
}

tl::expected<PvhBoot, BootError> load_pvh(const memory::GuestMemory& memory, const ImageFile& kernel,
                                          const ElfImage& image, const std::string& cmdline,
                                          std::span<const ImageFile> modules) {
  if (cmdline.size() + 1 > kMaxCmdlineBytes) {
    return tl::unexpected(BootError{BootErrc::kBadParameter,
                                    fmt::format("command line is {} bytes, more than the limit of {}",
                                                cmdline.size(), kMaxCmdlineBytes - 1)});
  }
  if (cmdline.find('\0') != std::string::npos) {
    return tl::unexpected(BootError{BootErrc::kBadParameter, "command line contains a NUL byte"});
  }
  if (modules.size() > kMaxModules) {
    return tl::unexpected(BootError{BootErrc::kBadParameter,
                                    fmt::format("{} modules, more than the limit of {}", modules.size(), kMaxModules)});
  }
  const std::vector<RamRegion> ram = reported_ram(memory);

  // Check every segment before writing any, so a refused image leaves guest memory untouched.
  std::uint64_t image_end = 0;
  for (const LoadSegment& s : image.segments) {
    if (!inside_one(ram, s.guest_address, s.end())) {
      return tl::unexpected(placement_error(fmt::format(
          "kernel {}: segment {} [{:#x}, {:#x}) lies outside guest RAM ({} MiB: {})", kernel.path(), s.index,
          s.guest_address, s.end(), memory.size() / memory::kMiB, describe_ram(ram))));
    }
    if (s.guest_address < kBootZoneEnd && kBootZoneStart < s.end()) {
      return tl::unexpected(placement_error(fmt::format(
          "kernel {}: segment {} [{:#x}, {:#x}) overlaps the boot structures at [{:#x}, {:#x})", kernel.path(),
          s.index, s.guest_address, s.end(), kBootZoneStart, kBootZoneEnd)));
    }
    image_end = std::max(image_end, s.end());
  }

  // Modules follow the kernel, page-aligned, each inside one RAM range.
  PvhBoot boot;
  std::uint64_t next = align_up(std::max(image_end, memory::kHighMemoryStart), kPageSize);
  for (const ImageFile& m : modules) {
    const auto fits = [&](std::uint64_t at) { return at <= UINT64_MAX - m.size() && inside_one(ram, at, at + m.size()); };
    if (!fits(next)) {
      // Try the start of the next RAM range (above the MMIO hole) before giving up.
      const auto later = std::find_if(ram.begin(), ram.end(), [&](const RamRegion& r) { return r.guest_address > next; });
      if (later == ram.end() || !fits(later->guest_address)) {
        return tl::unexpected(placement_error(fmt::format(
            "module {} ({} bytes) does not fit in guest RAM after the kernel and earlier modules ({} MiB of RAM)",
            m.path(), m.size(), memory.size() / memory::kMiB)));
      }
      next = later->guest_address;
    }
    boot.modules.push_back({next, m.size()});
    next = align_up(next + m.size(), kPageSize);
  }

  for (const LoadSegment& s : image.segments) {
    // inside_one() above proved the whole range is RAM; slice() checks again rather than trusting it.
    auto dst = memory.slice(s.guest_address, s.file_size);
    if (!dst) return tl::unexpected(placement_error(dst.error().describe()));
    if (auto r = kernel.read_at(s.file_offset, *dst); !r) return tl::unexpected(r.error());
  }
  for (std::size_t i = 0; i < modules.size(); ++i) {
    auto dst = memory.slice(boot.modules[i].guest_address, boot.modules[i].size);
    if (!dst) return tl::unexpected(placement_error(dst.error().describe()));
    if (auto r = modules[i].read_at(0, *dst); !r) return tl::unexpected(r.error());
  }

  // The boot zone is below 1 MiB and inside [0, kEbdaStart), which every accepted size has.
  const auto write_failed = [](const memory::MemoryError& e) { return placement_error("boot structures: " + e.describe()); };
  std::vector<hvm_memmap_table_entry> memmap;
  for (const RamRegion& r : ram) {
    memmap.push_back({r.guest_address, r.size, kE820Ram, 0});
  }
  for (std::size_t i = 0; i < memmap.size(); ++i) {
    if (auto w = memory.write_object(kMemmapAddress + i * sizeof(hvm_memmap_table_entry), memmap[i]); !w)
      return tl::unexpected(write_failed(w.error()));
  }
  for (std::size_t i = 0; i < boot.modules.size(); ++i) {
    const hvm_modlist_entry entry{boot.modules[i].guest_address, boot.modules[i].size, 0, 0};
    if (auto w = memory.write_object(kModlistAddress + i * sizeof(hvm_modlist_entry), entry); !w)
      return tl::unexpected(write_failed(w.error()));
  }
  const std::span<const std::uint8_t> cmdline_bytes(reinterpret_cast<const std::uint8_t*>(cmdline.c_str()),
                                                    cmdline.size() + 1);
  if (auto w = memory.write(kCmdlineAddress, cmdline_bytes); !w) return tl::unexpected(write_failed(w.error()));

  hvm_start_info info{};
  info.magic = XEN_HVM_START_MAGIC_VALUE;
  info.version = 1;  // version 1 carries the memory map
  info.flags = 0;
  info.nr_modules = static_cast<std::uint32_t>(boot.modules.size());
  info.modlist_paddr = boot.modules.empty() ? 0 : kModlistAddress;
  info.cmdline_paddr = kCmdlineAddress;
  info.rsdp_paddr = 0;  // no ACPI
  info.memmap_paddr = kMemmapAddress;
  info.memmap_entries = static_cast<std::uint32_t>(memmap.size());
  if (auto w = memory.write_object(kStartInfoAddress, info); !w) return tl::unexpected(write_failed(w.error()));

  boot.entry = image.pvh_entry;
  boot.start_info_address = kStartInfoAddress;
  return boot;
}

}  // namespace tilehv::boot
