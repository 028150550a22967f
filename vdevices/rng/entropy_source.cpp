// EntropySource: where the virtio-rng device takes its bytes: the host kernel's CSPRNG, or a seeded
// deterministic stream (shadow partitions and tests need reproducible inputs).
#include "rng/entropy_source.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace tilehv::vdevices {

bool HostEntropy::fill(std::span<std::uint8_t> out) noexcept {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool SeededEntropy::fill(std::span<std::uint8_t> out) noexcept {
  for (std::size_t i = 0; i < out.size(); i += 8) {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    const std::uint64_t word = state_ * 0x2545f4914f6cdd1dULL;
    std::memcpy(out.data() + i, &word, std::min<std::size_t>(8, out.size() - i));
  }
  return true;
}

}  // namespace tilehv::vdevices
