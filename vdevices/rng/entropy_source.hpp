// EntropySource: where the virtio-rng device takes its bytes: the host kernel's CSPRNG, or a seeded
// deterministic stream (shadow partitions and tests need reproducible inputs).
#pragma once

#include <cstdint>
#include <span>

namespace tilehv::vdevices {

class EntropySource {
 public:
  virtual ~EntropySource() = default;
  // Fills `out` completely; false if the source failed (the request is then answered with 0 bytes).
  [[nodiscard]] virtual bool fill(std::span<std::uint8_t> out) noexcept = 0;
};

// getrandom(2): the host's CSPRNG, never blocking after boot.
class HostEntropy final : public EntropySource {
 public:
  [[nodiscard]] bool fill(std::span<std::uint8_t> out) noexcept override;
};

// A deterministic xorshift-based stream from a seed: the same seed gives the same bytes. Not for
// anything that needs secrecy.
class SeededEntropy final : public EntropySource {
 public:
  explicit SeededEntropy(std::uint64_t seed) : state_(seed == 0 ? 0x9e3779b97f4a7c15ULL : seed) {}
  [[nodiscard]] bool fill(std::span<std::uint8_t> out) noexcept override;

 private:
  std::uint64_t state_;
};

}  // namespace tilehv::vdevices
