// Counter-based pseudo-random draws for the synthetic models: SplitMix64's output function used as a
// hash of (seed, stream, counter). A draw depends only on its inputs, never on how many draws came
// before, so a value at time t is the same whatever the rate, the pull pattern or a restore; and the
// algorithm is fixed here (std:: distributions differ between standard libraries).
#pragma once

#include <cstdint>

namespace tilehv::vdevices::sensors {

// SplitMix64 (Steele, Lea, Flood 2014): one step from state x, i.e. the finaliser applied to
// x + 0x9e3779b97f4a7c15.
[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  std::uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The draw for (seed, stream, counter): streams separate the models' independent quantities.
[[nodiscard]] constexpr std::uint64_t draw(std::uint64_t seed, std::uint64_t stream, std::uint64_t counter) noexcept {
  return splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ counter);
}

// Maps a 64-bit draw onto [lo, hi] by a 128-bit multiply (Lemire): no division, no modulo bias worth
// measuring, identical on every host.
[[nodiscard]] constexpr std::int64_t uniform(std::uint64_t bits, std::int64_t lo, std::int64_t hi) noexcept {
  const std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1;
  __extension__ using u128 = unsigned __int128;
  const auto offset = static_cast<std::uint64_t>((static_cast<u128>(bits) * span) >> 64);
  return lo + static_cast<std::int64_t>(offset);
}

// Triangular noise on [-amplitude, amplitude]: the sum of two uniform halves, taken from the two
// 32-bit halves of one draw. Peaked at zero like real sensor noise, and bounded unlike a Gaussian.
[[nodiscard]] constexpr std::int64_t triangular(std::uint64_t bits, std::int64_t amplitude) noexcept {
  const std::int64_t half = amplitude / 2;
  const std::int64_t a = uniform(bits << 32, -half, half);
  const std::int64_t b = uniform(bits & 0xffffffff00000000ULL, -(amplitude - half), amplitude - half);
  return a + b;
}

}  // namespace tilehv::vdevices::sensors
