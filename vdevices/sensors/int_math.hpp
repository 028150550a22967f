// Integer math for the synthetic models: a sine and a scaled multiply-divide in integers only, so the
// synthetic streams are bit-identical on every host and compiler.
#pragma once

#include <cstdint>

namespace tilehv::vdevices::sensors {

// One million times sin(2 pi * phase / period), for any phase (reduced modulo period), period > 0.
// Bhaskara I's rational approximation on each half wave: at most 0.0017 from the true sine, smooth
// and exactly odd-symmetric, which is plenty for a synthetic signal.
[[nodiscard]] std::int64_t sin_micro(std::uint64_t phase, std::uint64_t period) noexcept;

// a * b / c, truncated toward zero, with a 128-bit intermediate; c != 0. The caller keeps the
// result in range.
[[nodiscard]] std::int64_t mul_div(std::int64_t a, std::int64_t b, std::int64_t c) noexcept;
[[nodiscard]] std::uint64_t mul_div_u(std::uint64_t a, std::uint64_t b, std::uint64_t c) noexcept;

}  // namespace tilehv::vdevices::sensors
