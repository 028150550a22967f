// GuestMemory: the partition's RAM, backed by a memfd and reached only through checked accessors.
#include "memory/guest_memory.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "util/errno_text.hpp"

namespace tilehv::memory {

std::string MemoryError::describe() const {
  switch (code) {
    case MemoryErrc::kOverflow:
      return fmt::format("guest range {:#x}+{:#x} wraps around the address space", address, length);
    case MemoryErrc::kOutOfRange:
      break;
  }
  return fmt::format("guest range [{:#x}, {:#x}) is not guest RAM", address, address + length);
}

tl::expected<GuestMemory, std::string> GuestMemory::create(std::uint64_t size) {
  if (size < kMinMemorySize || size > kMaxMemorySize || size % kPageSize != 0) {
    return tl::unexpected(fmt::format("guest memory size {:#x} must be a multiple of 4 KiB between "
                                      "{} MiB and {} GiB",
                                      size, kMinMemorySize / kMiB, kMaxMemorySize / kGiB));
  }
  // A memfd rather than anonymous memory: snapshots, migration and audits can then reach the RAM
  // through a file descriptor, and it can be sealed against resizing.
  util::UniqueFd memfd(::memfd_create("tilehv-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) {
    return tl::unexpected("memfd_create for guest memory failed: " + util::errno_text(errno));
  }
  if (::ftruncate(memfd.get(), static_cast<off_t>(size)) != 0) {
    return tl::unexpected(fmt::format("cannot size guest memory to {} MiB: {}", size / kMiB,
                                      util::errno_text(errno)));
  }
  // Nothing may shrink the file under a running guest: a later truncate would turn guest accesses
  // into SIGBUS in the VMM.
  if (::fcntl(memfd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return tl::unexpected("cannot seal guest memory: " + util::errno_text(errno));
  }
  // MAP_NORESERVE: pages are committed on first touch, so a 1 GiB partition that touches 2 MiB
  // costs 2 MiB.
  auto mapping = util::Mapping::map(size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
                                    memfd.get(), 0);
  if (!mapping) {
    return tl::unexpected(fmt::format("cannot map {} MiB of guest memory: {}", size / kMiB,
                                      util::errno_text(mapping.error())));
  }
  // Guest RAM has no place in a core dump of the VMM: it is large and belongs to the guest.
  ::madvise(mapping->data(), size, MADV_DONTDUMP);
  std::vector<HostRegion> regions;
  for (const RamRegion& ram : ram_regions_for(size)) {
    regions.push_back({ram, mapping->data() + ram.file_offset});
  }
  return GuestMemory(std::move(memfd), std::move(*mapping), std::move(regions), size);
}

tl::expected<std::span<std::uint8_t>, MemoryError> GuestMemory::slice(std::uint64_t address,
                                                                     std::uint64_t length) const noexcept {
  if (length > UINT64_MAX - address) {
    return tl::unexpected(MemoryError{MemoryErrc::kOverflow, address, length});
  }
  for (const HostRegion& r : regions_) {
    // Written so that no sum can overflow: address >= start, and the tail fits in what remains.
    if (address >= r.ram.guest_address && address - r.ram.guest_address <= r.ram.size &&
        length <= r.ram.size - (address - r.ram.guest_address)) {
      return std::span<std::uint8_t>(r.host + (address - r.ram.guest_address), length);
    }
  }
  return tl::unexpected(MemoryError{MemoryErrc::kOutOfRange, address, length});
}

tl::expected<void, MemoryError> GuestMemory::read(std::uint64_t address,
                                                  std::span<std::uint8_t> out) const noexcept {
  auto src = slice(address, out.size());
  if (!src) {
    return tl::unexpected(src.error());
  }
  std::memcpy(out.data(), src->data(), out.size());
  return {};
}

tl::expected<void, MemoryError> GuestMemory::write(std::uint64_t address,
                                                   std::span<const std::uint8_t> in) const noexcept {
  auto dst = slice(address, in.size());
  if (!dst) {
    return tl::unexpected(dst.error());
  }
  std::memcpy(dst->data(), in.data(), in.size());
  return {};
}

}  // namespace tilehv::memory
