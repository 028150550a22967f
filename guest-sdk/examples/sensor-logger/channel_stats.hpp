// Channel statistics of the sensor logger: count, min, mean, max and the first and last timestamps
// of a channel's samples, in integers, and milli-units printed as decimals with three places.
#pragma once

#include <cstdint>

#include <guest/str_view.hpp>

namespace sensor_logger {

// The logger collects at most this many samples per channel; with the stream's bound on values
// (sensor::kMaxMagnitude) the sum stays far inside 64 bits.
inline constexpr uint64_t kMaxSamplesPerChannel = 1'000'000;

class ChannelStats {
 public:
  void add(uint64_t timestamp_ns, int64_t value_milli);

  [[nodiscard]] uint64_t count() const { return count_; }
  [[nodiscard]] int64_t min() const { return min_; }
  [[nodiscard]] int64_t max() const { return max_; }
  // The mean in milli-units, rounded half away from zero; 0 without samples.
  [[nodiscard]] int64_t mean() const;
  [[nodiscard]] uint64_t first_ns() const { return first_ns_; }
  [[nodiscard]] uint64_t last_ns() const { return last_ns_; }

 private:
  uint64_t count_ = 0;
  int64_t sum_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  uint64_t first_ns_ = 0;
  uint64_t last_ns_ = 0;
};

// A milli-unit value as text: 21500 is "21.500", -5 is "-0.005".
struct MilliText {
  char chars[32];
  [[nodiscard]] guest::StrView view() const { return guest::StrView(chars); }
};
MilliText milli_text(int64_t milli);

}  // namespace sensor_logger
