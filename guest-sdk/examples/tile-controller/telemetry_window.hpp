// Telemetry window: min, max and mean of the temperatures since the last telemetry datagram. Every
// telemetry_every=K inputs the controller reports them and starts over.
#pragma once

#include <cstdint>

namespace tile_controller {

// The most inputs one telemetry datagram summarises: with sensor values within ±10^12 milli-units
// (guest/sensor/wire.hpp kMaxMagnitude) their sum stays inside 64 bits.
inline constexpr uint64_t kMaxTelemetryEvery = 1'000'000;

class TelemetryWindow {
 public:
  void add(int64_t milli);
  void reset() { *this = TelemetryWindow{}; }

  [[nodiscard]] uint64_t count() const { return count_; }
  [[nodiscard]] int64_t min() const { return min_; }
  [[nodiscard]] int64_t max() const { return max_; }
  // Rounded half away from zero; 0 when empty.
  [[nodiscard]] int64_t mean() const;

 private:
  uint64_t count_ = 0;
  int64_t sum_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
};

}  // namespace tile_controller
