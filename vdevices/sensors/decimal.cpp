// Decimal text <-> fixed-point integers: how trace values, IIO attributes and stream values cross
// between text and the integer milli-units every sample carries (bit-exact, no floating point).
#include "sensors/decimal.hpp"

#include <fmt/format.h>

namespace tilehv::vdevices::sensors {
namespace {

// 9.2e15 leaves room for the scaling by 10^max_fraction below without overflowing int64 when
// max_fraction is 3; larger fractions get a proportionally smaller integer part.
constexpr std::int64_t kMaxMagnitude = 9'200'000'000'000'000;

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<std::int64_t> parse_fixed(std::string_view text, int max_fraction) noexcept {
  if (max_fraction < 0 || max_fraction > 9) return std::nullopt;
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view fraction = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 19) return std::nullopt;
  if (dot != std::string_view::npos && (fraction.empty() || fraction.size() > static_cast<std::size_t>(max_fraction))) {
    return std::nullopt;
  }
  std::int64_t unit = 1;
  for (int i = 0; i < max_fraction; ++i) unit *= 10;
  const std::int64_t limit = kMaxMagnitude / unit;
  std::int64_t value = 0;
  for (const char c : whole) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
    if (value > limit) return std::nullopt;
  }
  value *= unit;
  std::int64_t place = unit;
  for (const char c : fraction) {
    if (!is_digit(c)) return std::nullopt;
    place /= 10;
    value += (c - '0') * place;
  }
  return negative ? -value : value;
}

std::optional<std::uint64_t> parse_u64(std::string_view text) noexcept {
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text.front() == '0')) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (!is_digit(c)) return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::string format_milli(std::int64_t milli) {
  // Magnitude as unsigned so that INT64_MIN formats too.
  const bool negative = milli < 0;
  const std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(milli) : static_cast<std::uint64_t>(milli);
  return fmt::format("{}{}.{:03}", negative ? "-" : "", magnitude / 1000, magnitude % 1000);
}

}  // namespace tilehv::vdevices::sensors
