// Mapping: sole owner of an mmap'd region, unmapped exactly once.
#include "util/mapping.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace tilehv::util {

Mapping::Mapping(Mapping&& other) noexcept
    : addr_(std::exchange(other.addr_, nullptr)), length_(std::exchange(other.length_, 0)) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    reset();
    addr_ = std::exchange(other.addr_, nullptr);
    length_ = std::exchange(other.length_, 0);
  }
  return *this;
}

Mapping::~Mapping() { reset(); }

tl::expected<Mapping, int> Mapping::map(std::size_t length, int prot, int flags, int fd,
                                        std::size_t offset) noexcept {
  void* addr = ::mmap(nullptr, length, prot, flags, fd, static_cast<off_t>(offset));
  if (addr == MAP_FAILED) {
    return tl::unexpected(errno);
  }
  return Mapping(addr, length);
}

void Mapping::reset() noexcept {
  if (addr_ == nullptr) {
    return;
  }
  if (::munmap(addr_, length_) != 0) {
    // A mapping we cannot remove may stay reachable (guest memory, a vCPU run page): carrying on would
    // leave memory we believe released still shared. This cannot happen for a valid mapping.
    std::fprintf(stderr, "tilehv: fatal: munmap(%p, %zu) failed: %s\n", addr_, length_,
                 std::strerror(errno));
    std::abort();
  }
  addr_ = nullptr;
  length_ = 0;
}

}  // namespace tilehv::util
