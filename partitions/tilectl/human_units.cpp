// Human units: binary size multiples and compact durations.
#include "tilectl/human_units.hpp"

#include <array>
#include <cmath>

#include <fmt/format.h>

namespace tilehv::tilectl {

std::string format_bytes(std::uint64_t bytes) {
  static constexpr std::array<const char*, 6> kUnits{"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  std::size_t unit = 0;
  std::uint64_t whole = bytes;
  std::uint64_t divisor = 1;
  while (whole >= 1024 && unit + 1 < kUnits.size()) {
    whole /= 1024;
    divisor *= 1024;
    ++unit;
  }
  if (bytes % divisor == 0) return fmt::format("{} {}", whole, kUnits[unit]);
  const double value = static_cast<double>(bytes) / static_cast<double>(divisor);
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-";
  // Beyond a few centuries the number means nothing, and the cast below must stay in range.
  if (seconds > 1e10) return "-";
  const auto total = static_cast<std::uint64_t>(seconds);
  const std::uint64_t days = total / 86400, hours = total % 86400 / 3600, minutes = total % 3600 / 60, secs = total % 60;
  if (days > 0) return fmt::format("{}d{:02}h", days, hours);
  if (hours > 0) return fmt::format("{}h{:02}m", hours, minutes);
  if (minutes > 0) return fmt::format("{}m{:02}s", minutes, secs);
  return fmt::format("{}s", secs);
}

}  // namespace tilehv::tilectl
