// TraceSource: replays a parsed trace. Every record becomes one sample with exactly the trace's
// timestamp, channel and value; the sample's seq is the record's index in the trace.
#pragma once

#include <memory>

#include "sensors/sample_source.hpp"
#include "sensors/trace.hpp"

namespace tilehv::vdevices::sensors {

class TraceSource final : public SampleSource {
 public:
  // The trace was validated when it was parsed, so creating its source cannot fail.
  [[nodiscard]] static std::unique_ptr<TraceSource> create(Trace trace);

  [[nodiscard]] const Sensor& sensor() const noexcept override { return trace_.sensor; }
  [[nodiscard]] tl::expected<std::size_t, Error> poll(std::uint64_t until_ns, std::size_t max_samples,
                                                      std::vector<Sample>& out) override;
  // Refused: the trace's timestamps are the timing, and a replay is bit-exact to it.
  [[nodiscard]] tl::expected<std::uint64_t, Error> set_rate(std::size_t channel, std::uint64_t rate_mhz) override;
  [[nodiscard]] bool finished() const noexcept override { return position_ == trace_.records.size(); }
  [[nodiscard]] std::string_view source_kind() const noexcept override { return "trace"; }
  [[nodiscard]] std::vector<std::uint8_t> save() const override;
  [[nodiscard]] tl::expected<void, Error> restore(std::span<const std::uint8_t> bytes) override;

 private:
  TraceSource(Trace trace, std::uint64_t digest) : trace_(std::move(trace)), digest_(digest) {}

  Trace trace_;
  std::uint64_t digest_;
  std::size_t position_ = 0;  // the next record to replay
};

}  // namespace tilehv::vdevices::sensors
