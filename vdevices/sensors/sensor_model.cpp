// Sensor model: a named sensor of a fixed kind, its channels (unit, physical range, rate and rate
// bounds), and the Sample every source produces. Values are integer milli-units throughout.
#include "sensors/sensor_model.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace tilehv::vdevices::sensors {
namespace {

constexpr std::array<std::string_view, 5> kKindNames = {"thermal", "piezo", "mmwave", "awg", "poe"};

// One row per channel: the physical range is the device's, the rate limits what its hardware does.
Channel make_channel(std::string name, std::string unit, std::int64_t min_milli, std::int64_t max_milli,
                     std::uint64_t rate_mhz, std::uint64_t min_rate_mhz, std::uint64_t max_rate_mhz) {
  return Channel{std::move(name), std::move(unit), min_milli, max_milli, rate_mhz,
                 min_rate_mhz, max_rate_mhz, min_rate_mhz, max_rate_mhz};
}

std::vector<Channel> channels_of(SensorKind kind, std::uint32_t poe_ports) {
  switch (kind) {
    case SensorKind::thermal:
      // An industrial temperature sensor's range; 0.1 Hz to 10 Hz, 1 Hz by default.
      return {make_channel("temperature", "degC", -40'000, 125'000, 1'000, 100, 10'000)};
    case SensorKind::piezo:
      // +-16 g accelerometer-class vibration at audio-ish rates; strain is slow.
      return {make_channel("vibration", "m/s^2", -160'000, 160'000, 1'000'000, 10'000, 10'000'000),
              make_channel("strain", "ue", -5'000'000, 5'000'000, 10'000, 1'000, 100'000)};
    case SensorKind::mmwave:
      return {make_channel("presence", "bool", 0, 1'000, 10'000, 1'000, 50'000),
              make_channel("range", "m", 0, 20'000, 10'000, 1'000, 50'000),
              make_channel("velocity", "m/s", -10'000, 10'000, 10'000, 1'000, 50'000)};
    case SensorKind::awg:
      return {make_channel("water_flow", "mL/min", 0, 100'000, 1'000, 100, 10'000),
              make_channel("humidity", "%RH", 0, 100'000, 1'000, 100, 10'000)};
    case SensorKind::poe: {
      // 90 W: the most an IEEE 802.3bt type 4 port sources.
      std::vector<Channel> ports;
      for (std::uint32_t i = 0; i < poe_ports; ++i) {
        ports.push_back(make_channel(fmt::format("port{}", i), "W", 0, 90'000, 1'000, 100, 10'000));
      }
      return ports;
    }
  }
  return {};
}

}  // namespace

std::string_view kind_name(SensorKind kind) noexcept { return kKindNames[static_cast<std::size_t>(kind)]; }

std::optional<SensorKind> parse_kind(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kKindNames.size(); ++i) {
    if (kKindNames[i] == name) return static_cast<SensorKind>(i);
  }
  return std::nullopt;
}

bool valid_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > Sensor::kMaxNameLength) return false;
  if (name.front() < 'a' || name.front() > 'z') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

tl::expected<Sensor, Error> Sensor::create(const SensorSpec& spec) {
  if (!valid_name(spec.name)) {
    return tl::unexpected(Error{ErrorKind::invalid_argument,
                                fmt::format("sensor name '{}' is not [a-z][a-z0-9_-]{{0,31}}", spec.name)});
  }
  if (static_cast<std::size_t>(spec.kind) >= kKindNames.size()) {
    return tl::unexpected(Error{ErrorKind::invalid_argument, "unknown sensor kind"});
  }
  if (spec.kind == SensorKind::poe && (spec.poe_ports == 0 || spec.poe_ports > kMaxPoePorts)) {
    return tl::unexpected(Error{ErrorKind::invalid_argument,
                                fmt::format("PoE sensor '{}' has {} ports; 1 to {} are supported", spec.name,
                                            spec.poe_ports, kMaxPoePorts)});
  }
  return Sensor(spec.name, spec.kind, channels_of(spec.kind, spec.poe_ports));
}

std::optional<std::size_t> Sensor::find_channel(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < channels_.size(); ++i) {
    if (channels_[i].name == name) return i;
  }
  return std::nullopt;
}

tl::expected<void, Error> Sensor::restrict_rates(std::size_t channel, std::uint64_t min_mhz, std::uint64_t max_mhz) {
  if (channel >= channels_.size()) {
    return tl::unexpected(Error{ErrorKind::invalid_argument, fmt::format("{} has no channel {}", name_, channel)});
  }
  Channel& c = channels_[channel];
  if (min_mhz > max_mhz || min_mhz < c.device_min_rate_mhz || max_mhz > c.device_max_rate_mhz) {
    return tl::unexpected(Error{ErrorKind::invalid_argument,
                                fmt::format("{}.{}: rate bounds {}..{} mHz are not within the device's {}..{} mHz",
                                            name_, c.name, min_mhz, max_mhz, c.device_min_rate_mhz,
                                            c.device_max_rate_mhz)});
  }
  c.min_rate_mhz = min_mhz;
  c.max_rate_mhz = max_mhz;
  c.rate_mhz = std::clamp(c.rate_mhz, min_mhz, max_mhz);
  return {};
}

tl::expected<void, Error> Sensor::check_rate(std::size_t channel, std::uint64_t rate_mhz) const {
  if (channel >= channels_.size()) {
    return tl::unexpected(Error{ErrorKind::refused, fmt::format("no channel {}", channel)});
  }
  const Channel& c = channels_[channel];
  if (rate_mhz < c.min_rate_mhz) {
    return tl::unexpected(
        Error{ErrorKind::refused, fmt::format("{} mHz is below min_rate {} mHz", rate_mhz, c.min_rate_mhz)});
  }
  if (rate_mhz > c.max_rate_mhz) {
    return tl::unexpected(
        Error{ErrorKind::refused, fmt::format("{} mHz is above max_rate {} mHz", rate_mhz, c.max_rate_mhz)});
  }
  return {};
}

tl::expected<void, Error> Sensor::set_rate(std::size_t channel, std::uint64_t rate_mhz) {
  auto ok = check_rate(channel, rate_mhz);
  if (!ok) return ok;
  channels_[channel].rate_mhz = rate_mhz;
  return {};
}

bool Sensor::same_identity(const Sensor& other) const noexcept {
  if (name_ != other.name_ || kind_ != other.kind_ || channels_.size() != other.channels_.size()) return false;
  for (std::size_t i = 0; i < channels_.size(); ++i) {
    if (channels_[i].name != other.channels_[i].name) return false;
  }
  return true;
}

}  // namespace tilehv::vdevices::sensors
