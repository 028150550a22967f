// Synthetic models: each kind's channels as pure functions of (seed, channel, virtual time), built
// from the counter-based draws of prng.hpp and the integer sine of int_math.hpp. Because a value
// depends on nothing else, a stream is the same for a given seed whatever the pull pattern, and a
// restored source needs no model state beyond its parameters. docs/sensors.md lists every constant.
#pragma once

#include <cstdint>

#include "sensors/sensor_model.hpp"

namespace tilehv::vdevices::sensors {

struct SyntheticParams {
  std::uint64_t seed = 0;
  // Length of the diurnal cycle in virtual time: a real day by default; shorter for demonstrations.
  std::uint64_t day_ns = 86'400'000'000'000;
};

// The channel's value in milli-units at a timestamp (before clamping to the channel's range).
[[nodiscard]] std::int64_t synthetic_value(SensorKind kind, std::uint32_t channel, std::uint64_t timestamp_ns,
                                           const SyntheticParams& params) noexcept;

}  // namespace tilehv::vdevices::sensors
