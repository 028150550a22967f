// SyntheticSource: a sensor driven by the deterministic models of synthetic_models.hpp. The same
// seed and parameters give a bit-identical stream on every host; a different seed a different one.
#pragma once

#include <memory>

#include "sensors/scheduled_source.hpp"
#include "sensors/synthetic_models.hpp"

namespace tilehv::vdevices::sensors {

class SyntheticSource final : public ScheduledSource {
 public:
  // A diurnal cycle shorter than a second would turn the curve into noise at any supported rate.
  static constexpr std::uint64_t kMinDayNs = 1'000'000'000;

  [[nodiscard]] static tl::expected<std::unique_ptr<SyntheticSource>, Error> create(Sensor sensor,
                                                                                    SyntheticParams params);

  [[nodiscard]] std::string_view source_kind() const noexcept override { return "synthetic"; }
  [[nodiscard]] const SyntheticParams& params() const noexcept { return params_; }

 private:
  SyntheticSource(Sensor sensor, SyntheticParams params) : ScheduledSource(std::move(sensor)), params_(params) {}

  [[nodiscard]] tl::expected<void, Error> prepare(std::uint64_t) override { return {}; }
  [[nodiscard]] std::int64_t value(std::uint32_t channel, std::uint64_t timestamp_ns) override;
  // The parameters travel with the state: a restored source continues the saved stream even when
  // it was created with other parameters.
  void save_model(StateWriter& out) const override;
  [[nodiscard]] tl::expected<void, Error> read_model(StateReader& in) override;
  void commit_model() noexcept override { params_ = staged_; }

  SyntheticParams params_;
  SyntheticParams staged_;
};

}  // namespace tilehv::vdevices::sensors
