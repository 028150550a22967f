// SampleSource: where a sensor's samples come from (synthetic models, a replayed trace, the host's IIO
// sensors), behind one pull interface driven by virtual time. The caller decides when to pull; no
// source ever looks at the host's clock, so a stream depends only on its inputs.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "sensors/error.hpp"
#include "sensors/sensor_model.hpp"

namespace tilehv::vdevices::sensors {

class SampleSource {
 public:
  virtual ~SampleSource() = default;

  [[nodiscard]] virtual const Sensor& sensor() const noexcept = 0;

  // Appends the samples not produced yet whose timestamp is <= until_ns, in timestamp order (ties
  // by channel index), at most max_samples of them, and returns how many. Fewer than max_samples
  // means the source has caught up with until_ns. On an error nothing is appended or consumed.
  [[nodiscard]] virtual tl::expected<std::size_t, Error> poll(std::uint64_t until_ns, std::size_t max_samples,
                                                              std::vector<Sample>& out) = 0;

  // Changes a channel's rate within the sensor's bounds; returns the timestamp of the first sample
  // taken under the new rate. A source whose timing is fixed (a trace) refuses.
  [[nodiscard]] virtual tl::expected<std::uint64_t, Error> set_rate(std::size_t channel, std::uint64_t rate_mhz) = 0;

  // True once no further sample will ever come (the end of a trace).
  [[nodiscard]] virtual bool finished() const noexcept = 0;

  // A tag stored with the state, so a state is never restored into a different kind of source.
  [[nodiscard]] virtual std::string_view source_kind() const noexcept = 0;

  // Complete, versioned by the enclosing port record. restore() is all or nothing.
  [[nodiscard]] virtual std::vector<std::uint8_t> save() const = 0;
  [[nodiscard]] virtual tl::expected<void, Error> restore(std::span<const std::uint8_t> bytes) = 0;
};

}  // namespace tilehv::vdevices::sensors
