// Fuzz target: a kernel image from hostile bytes through parse_elf_image() and, when accepted,
// load_pvh() into guest memory. Nothing may crash, hang or trip a sanitizer.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "boot/elf_image.hpp"
#include "boot/image_file.hpp"
#include "boot/pvh_loader.hpp"
#include "memory/guest_memory.hpp"

namespace {

// One guest memory for the whole run: creating 16 MiB per input would dominate the time. The loader
// expects fresh memory only for speed (it skips zero-filling), which does not matter here.
const tilehv::memory::GuestMemory& shared_memory() {
  static auto memory = tilehv::memory::GuestMemory::create(16 * tilehv::memory::kMiB);
  if (!memory) __builtin_trap();
  return *memory;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const int fd = ::memfd_create("fuzz-kernel", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (size > 0 && ::write(fd, data, size) != static_cast<ssize_t>(size)) {
    ::close(fd);
    return 0;
  }
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  auto file = tilehv::boot::ImageFile::open(path, tilehv::boot::kMaxKernelImageBytes, "kernel");
  if (file) {
    auto image = tilehv::boot::parse_elf_image(*file);
    if (image) {
      (void)tilehv::boot::load_pvh(shared_memory(), *file, *image, "fuzz", {});
    }
  }
  ::close(fd);
  return 0;
}
