// Channel statistics of the sensor logger, integer-only.
#include "channel_stats.hpp"

#include <guest/format.hpp>

namespace sensor_logger {

void ChannelStats::add(uint64_t timestamp_ns, int64_t value_milli) {
  if (count_ == 0) {
    min_ = max_ = value_milli;
    first_ns_ = timestamp_ns;
  }
  if (value_milli < min_) min_ = value_milli;
  if (value_milli > max_) max_ = value_milli;
  sum_ += value_milli;
  last_ns_ = timestamp_ns;
  ++count_;
}

int64_t ChannelStats::mean() const {
  if (count_ == 0) return 0;
  const int64_t n = static_cast<int64_t>(count_);
  int64_t quotient = sum_ / n;
  const int64_t remainder = sum_ % n;  // carries the sign of the sum
  if (2 * (remainder < 0 ? -remainder : remainder) >= n) quotient += sum_ < 0 ? -1 : 1;
  return quotient;
}

MilliText milli_text(int64_t milli) {
  // The magnitude as unsigned: well defined for every int64_t.
  const uint64_t magnitude = milli < 0 ? 0 - static_cast<uint64_t>(milli) : static_cast<uint64_t>(milli);
  MilliText text{};
  guest::format_to_buffer(text.chars, sizeof text.chars, "{}{}.{:03}", milli < 0 ? "-" : "", magnitude / 1000,
                          magnitude % 1000);
  return text;
}

}  // namespace sensor_logger
