// Integer math of the controller: the kernel is integer-only (guest-sdk/README.md, Floating point),
// and every output must be a bit-exact function of the inputs, so rounding is spelt out here once.
#pragma once

#include <cstdint>

namespace tile_controller {

// numerator / denominator rounded half away from zero (denominator > 0): the mean of 1 and 2 is 2,
// of -1 and -2 is -2, the same rule the sensor logger uses for its means.
constexpr int64_t divide_rounded(int64_t numerator, int64_t denominator) {
  const int64_t half = denominator / 2;
  return numerator >= 0 ? (numerator + half) / denominator : -((-numerator + half) / denominator);
}

constexpr int64_t clamp(int64_t value, int64_t low, int64_t high) {
  return value < low ? low : value > high ? high : value;
}

static_assert(divide_rounded(3, 2) == 2 && divide_rounded(-3, 2) == -2 && divide_rounded(5, 4) == 1);

}  // namespace tile_controller
