// SyntheticSource: a sensor driven by the deterministic models of synthetic_models.hpp.
#include "sensors/synthetic_source.hpp"

#include <fmt/format.h>

namespace tilehv::vdevices::sensors {

tl::expected<std::unique_ptr<SyntheticSource>, Error> SyntheticSource::create(Sensor sensor, SyntheticParams params) {
  if (params.day_ns < kMinDayNs) {
    return tl::unexpected(Error{ErrorKind::invalid_argument,
                                fmt::format("synthetic day length {} ns is below {} ns", params.day_ns, kMinDayNs)});
  }
  return std::unique_ptr<SyntheticSource>(new SyntheticSource(std::move(sensor), params));
}

std::int64_t SyntheticSource::value(std::uint32_t channel, std::uint64_t timestamp_ns) {
  return synthetic_value(sensor().kind(), channel, timestamp_ns, params_);
}

void SyntheticSource::save_model(StateWriter& out) const {
  out.u64(params_.seed);
  out.u64(params_.day_ns);
}

tl::expected<void, Error> SyntheticSource::read_model(StateReader& in) {
  auto seed = in.u64();
  auto day = in.u64();
  if (!seed || !day) return tl::unexpected(Error{ErrorKind::state, "synthetic source state truncated"});
  if (*day < kMinDayNs) {
    return tl::unexpected(Error{ErrorKind::state, fmt::format("saved synthetic day length {} ns is below {} ns", *day, kMinDayNs)});
  }
  staged_ = SyntheticParams{*seed, *day};
  return {};
}

}  // namespace tilehv::vdevices::sensors
