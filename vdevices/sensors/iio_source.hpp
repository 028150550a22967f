// IioSource: a sensor fed by the host's real IIO sensors, polled. Timestamps follow the channel's
// virtual clock like every scheduled source; each poll reads every bound attribute once and stamps
// that reading on the channel's samples due in the poll (reading sysfs more often than the caller
// polls would add cost, not information).
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "sensors/iio_sysfs.hpp"
#include "sensors/scheduled_source.hpp"

namespace tilehv::vdevices::sensors {

// For each of the sensor's channels (by index), the IIO channel feeding it: the first unused
// discovered channel of the matching type, so a PoE sensor's ports take the power channels in order.
// A channel with no IIO counterpart (strain, water flow, radar) or none present on the host is
// ErrorKind::not_found, naming it: an IIO sensor is complete or refused, never silently partial.
[[nodiscard]] tl::expected<std::vector<IioChannelInfo>, Error> bind_iio(const Sensor& sensor,
                                                                        const std::vector<IioChannelInfo>& discovered,
                                                                        const std::filesystem::path& root);

class IioSource final : public ScheduledSource {
 public:
  // Discovers the IIO channels under root and binds every channel of the sensor.
  [[nodiscard]] static tl::expected<std::unique_ptr<IioSource>, Error> create(
      Sensor sensor, const std::filesystem::path& root = kDefaultIioRoot);

  [[nodiscard]] std::string_view source_kind() const noexcept override { return "iio"; }
  [[nodiscard]] const std::vector<IioChannelInfo>& bindings() const noexcept { return bindings_; }

 private:
  IioSource(Sensor sensor, std::filesystem::path root, std::vector<IioChannelInfo> bindings)
      : ScheduledSource(std::move(sensor)), root_(std::move(root)), bindings_(std::move(bindings)),
        latest_(bindings_.size(), 0) {}

  [[nodiscard]] tl::expected<void, Error> prepare(std::uint64_t until_ns) override;
  [[nodiscard]] std::int64_t value(std::uint32_t channel, std::uint64_t) override { return latest_.at(channel); }
  // Readings are live, not state: only the clocks (saved by the base) carry over.
  void save_model(StateWriter&) const override {}
  [[nodiscard]] tl::expected<void, Error> read_model(StateReader&) override { return {}; }
  void commit_model() noexcept override {}

  std::filesystem::path root_;
  std::vector<IioChannelInfo> bindings_;
  std::vector<std::int64_t> latest_;
};

}  // namespace tilehv::vdevices::sensors
