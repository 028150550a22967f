// IioSource: a sensor fed by the host's real IIO sensors, polled on the virtual clock.
#include "sensors/iio_source.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace tilehv::vdevices::sensors {
namespace {

// Which IIO type feeds a channel; nullopt where the IIO ABI has no such quantity.
std::optional<IioType> type_for(SensorKind kind, std::size_t channel) {
  switch (kind) {
    case SensorKind::thermal: return IioType::temp;
    case SensorKind::piezo: return channel == 0 ? std::optional{IioType::accel} : std::nullopt;
    case SensorKind::mmwave: return std::nullopt;
    case SensorKind::awg: return channel == 1 ? std::optional{IioType::humidityrelative} : std::nullopt;
    case SensorKind::poe: return IioType::power;
  }
  return std::nullopt;
}

}  // namespace

tl::expected<std::vector<IioChannelInfo>, Error> bind_iio(const Sensor& sensor,
                                                          const std::vector<IioChannelInfo>& discovered,
                                                          const std::filesystem::path& root) {
  std::vector<IioChannelInfo> bound;
  std::vector<bool> used(discovered.size(), false);
  for (std::size_t i = 0; i < sensor.channels().size(); ++i) {
    const Channel& c = sensor.channel(i);
    const auto type = type_for(sensor.kind(), i);
    if (!type) {
      return tl::unexpected(Error{ErrorKind::not_found,
                                  fmt::format("{}.{} ({}) has no IIO counterpart: the IIO ABI defines no such quantity",
                                              sensor.name(), c.name, c.unit)});
    }
    std::optional<std::size_t> pick;
    for (std::size_t d = 0; d < discovered.size(); ++d) {
      if (used[d] || discovered[d].type != *type || (!discovered[d].has_input && !discovered[d].has_raw)) continue;
      pick = d;
      break;
    }
    if (!pick) {
      return tl::unexpected(Error{ErrorKind::not_found,
                                  fmt::format("no IIO channel for {}.{} under {}: looked for in_{}*_input or "
                                              "in_{}*_raw in every iio:deviceN",
                                              sensor.name(), c.name, root.string(), iio_type_name(*type),
                                              iio_type_name(*type))});
    }
    used[*pick] = true;
    bound.push_back(discovered[*pick]);
  }
  return bound;
}

tl::expected<std::unique_ptr<IioSource>, Error> IioSource::create(Sensor sensor, const std::filesystem::path& root) {
  auto discovered = discover_iio(root);
  if (!discovered) return tl::unexpected(discovered.error());
  auto bindings = bind_iio(sensor, *discovered, root);
  if (!bindings) return tl::unexpected(bindings.error());
  return std::unique_ptr<IioSource>(new IioSource(std::move(sensor), root, std::move(*bindings)));
}

tl::expected<void, Error> IioSource::prepare(std::uint64_t) {
  // Read everything first, so a failed read changes nothing.
  std::vector<std::int64_t> readings;
  for (const IioChannelInfo& b : bindings_) {
    auto value = read_iio_milli(root_, b);
    if (!value) return tl::unexpected(value.error());
    readings.push_back(*value);
  }
  latest_ = std::move(readings);
  return {};
}

}  // namespace tilehv::vdevices::sensors
