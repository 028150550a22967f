// Sensor model: a named sensor of a fixed kind, its channels (unit, physical range, rate and rate
// bounds), and the Sample every source produces. Values are integer milli-units throughout.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "sensors/error.hpp"

namespace tilehv::vdevices::sensors {

enum class SensorKind : std::uint8_t { thermal, piezo, mmwave, awg, poe };

[[nodiscard]] std::string_view kind_name(SensorKind kind) noexcept;
[[nodiscard]] std::optional<SensorKind> parse_kind(std::string_view name) noexcept;

// Rates are in millihertz so that sub-hertz rates (0.1 Hz) stay integers.
struct Channel {
  std::string name;
  std::string unit;          // ASCII, no spaces: degC, m/s^2, ue, bool, m, m/s, mL/min, %RH, W
  std::int64_t min_milli;    // physical range, inclusive, in milli-units
  std::int64_t max_milli;
  std::uint64_t rate_mhz;    // current sample rate
  std::uint64_t min_rate_mhz;  // bounds a guest may choose from: the device limits, narrowed by policy
  std::uint64_t max_rate_mhz;
  std::uint64_t device_min_rate_mhz;  // what the device can do at all
  std::uint64_t device_max_rate_mhz;
};

struct Sample {
  std::uint32_t channel = 0;
  std::uint64_t seq = 0;           // per sensor, +1 per sample produced; a gap means samples were dropped
  std::uint64_t timestamp_ns = 0;  // virtual sensor time
  std::int64_t value_milli = 0;
  friend bool operator==(const Sample&, const Sample&) = default;
};

struct SensorSpec {
  std::string name;
  SensorKind kind = SensorKind::thermal;
  std::uint32_t poe_ports = 4;  // PoE only: channels port0..port{N-1}, 1..kMaxPoePorts
};

class Sensor {
 public:
  static constexpr std::uint32_t kMaxPoePorts = 16;
  static constexpr std::size_t kMaxNameLength = 32;

  [[nodiscard]] static tl::expected<Sensor, Error> create(const SensorSpec& spec);

  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] SensorKind kind() const noexcept { return kind_; }
  [[nodiscard]] const std::vector<Channel>& channels() const noexcept { return channels_; }
  [[nodiscard]] const Channel& channel(std::size_t index) const { return channels_.at(index); }
  [[nodiscard]] std::optional<std::size_t> find_channel(std::string_view name) const noexcept;

  // Policy: narrows a channel's rate bounds; refused unless device_min <= min <= max <= device_max.
  // The current rate is clamped into the new bounds.
  [[nodiscard]] tl::expected<void, Error> restrict_rates(std::size_t channel, std::uint64_t min_mhz,
                                                         std::uint64_t max_mhz);
  // Whether a guest may set this rate; the error says why not.
  [[nodiscard]] tl::expected<void, Error> check_rate(std::size_t channel, std::uint64_t rate_mhz) const;
  // Sets a rate that check_rate accepted.
  [[nodiscard]] tl::expected<void, Error> set_rate(std::size_t channel, std::uint64_t rate_mhz);

  // Same name, kind and channel names: what a saved state or a trace must match.
  [[nodiscard]] bool same_identity(const Sensor& other) const noexcept;

 private:
  Sensor(std::string name, SensorKind kind, std::vector<Channel> channels)
      : name_(std::move(name)), kind_(kind), channels_(std::move(channels)) {}

  std::string name_;
  SensorKind kind_;
  std::vector<Channel> channels_;
};

// Sensor and channel names: [a-z][a-z0-9_-]{0,31}, so they are safe in paths, stream lines and ports.
[[nodiscard]] bool valid_name(std::string_view name) noexcept;

}  // namespace tilehv::vdevices::sensors
