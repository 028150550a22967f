// ScheduledSource: the sources that sample on a clock (synthetic and IIO). Each channel has its own
// rate; sample k after the channel's epoch is stamped epoch + floor(k * 1e12 / rate_mHz) ns, so
// timestamps advance by exactly 1e9/rate ns whenever that is an integer, never drift otherwise, and
// depend on virtual time only.
#pragma once

#include <cstdint>
#include <vector>

#include "core/device_state.hpp"
#include "sensors/sample_source.hpp"

namespace tilehv::vdevices::sensors {

struct ChannelClock {
  std::uint64_t rate_mhz = 0;
  std::uint64_t epoch_ns = 0;  // timestamp of sample 0 at the current rate
  std::uint64_t index = 0;     // samples taken since the epoch
  std::uint64_t last_ns = 0;   // timestamp of the channel's latest sample, if has_last
  bool has_last = false;

  // Saturates at UINT64_MAX, which means "never": the end of virtual time.
  [[nodiscard]] std::uint64_t next_ns() const noexcept;
};

class ScheduledSource : public SampleSource {
 public:
  [[nodiscard]] const Sensor& sensor() const noexcept final { return sensor_; }
  [[nodiscard]] tl::expected<std::size_t, Error> poll(std::uint64_t until_ns, std::size_t max_samples,
                                                      std::vector<Sample>& out) final;
  [[nodiscard]] tl::expected<std::uint64_t, Error> set_rate(std::size_t channel, std::uint64_t rate_mhz) final;
  [[nodiscard]] bool finished() const noexcept final { return false; }
  [[nodiscard]] std::vector<std::uint8_t> save() const final;
  [[nodiscard]] tl::expected<void, Error> restore(std::span<const std::uint8_t> bytes) final;

 protected:
  explicit ScheduledSource(Sensor sensor);

  // Called once per poll that has a sample due, before any value() (IIO reads sysfs here).
  [[nodiscard]] virtual tl::expected<void, Error> prepare(std::uint64_t until_ns) = 0;
  // The channel's value at a timestamp; the base clamps it into the channel's range.
  [[nodiscard]] virtual std::int64_t value(std::uint32_t channel, std::uint64_t timestamp_ns) = 0;
  // The derived source's own state: read_model() checks and stages, commit_model() applies, so that
  // a restore that fails later leaves the source untouched.
  virtual void save_model(StateWriter& out) const = 0;
  [[nodiscard]] virtual tl::expected<void, Error> read_model(StateReader& in) = 0;
  virtual void commit_model() noexcept = 0;

 private:
  Sensor sensor_;
  std::vector<ChannelClock> clocks_;
  std::uint64_t next_seq_ = 0;
  // No future sample may be stamped earlier than this: it keeps the merged stream in time order when
  // a rate changes after samples up to some time were delivered.
  std::uint64_t floor_ns_ = 0;
};

}  // namespace tilehv::vdevices::sensors
