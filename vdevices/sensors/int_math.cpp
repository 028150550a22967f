// Integer math for the synthetic models: a sine and a scaled multiply-divide in integers only, so the
// synthetic streams are bit-identical on every host and compiler.
#include "sensors/int_math.hpp"

namespace tilehv::vdevices::sensors {
namespace {

__extension__ using i128 = __int128;
__extension__ using u128 = unsigned __int128;

// Position within a half wave in units of 1/2^20: fine enough that the quantisation (1e-6 of a half
// period) is far below the approximation's own error.
constexpr std::uint64_t kHalfSteps = 1ULL << 20;

}  // namespace

std::int64_t sin_micro(std::uint64_t phase, std::uint64_t period) noexcept {
  if (period == 0) return 0;
  phase %= period;
  // Position in the full wave on 2 * kHalfSteps steps.
  const auto step = static_cast<std::uint64_t>(static_cast<u128>(phase) * (2 * kHalfSteps) / period);
  const bool negative = step >= kHalfSteps;
  const std::uint64_t u = negative ? step - kHalfSteps : step;
  // Bhaskara I: sin(pi x) ~ 16 x (1 - x) / (5 - 4 x (1 - x)), with x = u / kHalfSteps.
  const std::uint64_t p = u * (kHalfSteps - u);  // <= 2^38
  const u128 num = static_cast<u128>(16) * p * 1'000'000;
  const u128 den = static_cast<u128>(5) * kHalfSteps * kHalfSteps - static_cast<u128>(4) * p;
  const auto magnitude = static_cast<std::int64_t>(num / den);
  return negative ? -magnitude : magnitude;
}

std::int64_t mul_div(std::int64_t a, std::int64_t b, std::int64_t c) noexcept {
  return static_cast<std::int64_t>(static_cast<i128>(a) * b / c);
}

std::uint64_t mul_div_u(std::uint64_t a, std::uint64_t b, std::uint64_t c) noexcept {
  return static_cast<std::uint64_t>(static_cast<u128>(a) * b / c);
}

}  // namespace tilehv::vdevices::sensors
