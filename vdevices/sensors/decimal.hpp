// Decimal text <-> fixed-point integers: how trace values, IIO attributes and stream values cross
// between text and the integer milli-units every sample carries (bit-exact, no floating point).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tilehv::vdevices::sensors {

// Parses an optional '-', decimal digits, and optionally '.' followed by 1..max_fraction digits into
// value * 10^max_fraction. Refuses anything else (spaces, '+', exponents, more fraction digits, a
// magnitude beyond +-9.2e15 units) so that no input is silently rounded.
[[nodiscard]] std::optional<std::int64_t> parse_fixed(std::string_view text, int max_fraction) noexcept;

// Like parse_fixed(text, 3): "21.5" -> 21500.
[[nodiscard]] inline std::optional<std::int64_t> parse_milli(std::string_view text) noexcept {
  return parse_fixed(text, 3);
}

// Unsigned decimal without sign or leading zeros (except "0" itself), at most 20 digits, no overflow.
[[nodiscard]] std::optional<std::uint64_t> parse_u64(std::string_view text) noexcept;

// 21500 -> "21.500", -50 -> "-0.050": always three fraction digits, so formatting is canonical.
[[nodiscard]] std::string format_milli(std::int64_t milli);

}  // namespace tilehv::vdevices::sensors
