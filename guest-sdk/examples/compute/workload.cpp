// Compute workload: the deterministic integer kernel behind the compute example.
#include "workload.hpp"

namespace compute {
namespace {

constexpr std::uint64_t rotl(std::uint64_t v, unsigned r) { return (v << r) | (v >> (64 - r)); }

}  // namespace

std::uint64_t run(std::uint64_t iterations) {
  // xorshift64* drives eight accumulators that each mix, multiply and rotate: integer-only and exact,
  // so the checksum is the same on every x86-64 CPU and hypervisor.
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  std::uint64_t acc[8] = {1, 2, 3, 5, 8, 13, 21, 34};
  for (std::uint64_t i = 0; i < iterations; ++i) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    const std::uint64_t r = x * 0x2545f4914f6cdd1dULL;
    std::uint64_t& a = acc[i & 7];
    a = rotl(a ^ r, 23) * 0x100000001b3ULL + acc[(i + 3) & 7];
  }
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::uint64_t a : acc) hash = (hash ^ a) * 0x100000001b3ULL;
  return hash;
}

}  // namespace compute
