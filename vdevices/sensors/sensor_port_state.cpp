// SensorPort state: the complete port, source included, as a versioned record. A restored port
// continues the exact byte stream: no sample lost, none repeated, a cut line resumed where it was cut.
#include <fmt/format.h>

#include "sensors/sensor_port.hpp"

namespace tilehv::vdevices::sensors {
namespace {

// Bounds on what a hostile record may make us allocate; each is far above what a port ever holds.
constexpr std::size_t kMaxSourceState = 64 * 1024;
constexpr std::size_t kMaxLineState = 16 * 1024;
constexpr std::size_t kMaxTagState = 64;

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  // SAFETY: viewing chars as bytes of the same storage; no guest data is reinterpreted.
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string string_of(const std::vector<std::uint8_t>& b) { return std::string(b.begin(), b.end()); }

// Reads fields in order, remembering the first failure so the decoder reads as straight-line code.
class Decoder {
 public:
  explicit Decoder(std::span<const std::uint8_t> payload) : in_(payload) {}

  template <typename T>
  T take(tl::expected<T, StateError> v) {
    if (!v) {
      if (!error_) error_ = v.error().message;
      return T{};
    }
    return std::move(*v);
  }
  std::uint64_t u64() { return take(in_.u64()); }
  std::uint32_t u32() { return take(in_.u32()); }
  std::uint8_t u8() { return take(in_.u8()); }
  bool boolean() { return take(in_.boolean()); }
  std::string text(std::size_t max) { return string_of(take(in_.blob(max))); }
  std::vector<std::uint8_t> blob(std::size_t max) { return take(in_.blob(max)); }
  void fail(std::string message) {
    if (!error_) error_ = std::move(message);
  }
  [[nodiscard]] bool at_end() const { return in_.at_end(); }
  [[nodiscard]] const std::optional<std::string>& error() const { return error_; }

 private:
  StateReader in_;
  std::optional<std::string> error_;
};

}  // namespace

DeviceState SensorPort::save_state() const {
  StateWriter w;
  w.blob(bytes_of(sensor().name()));
  w.u8(static_cast<std::uint8_t>(sensor().kind()));
  w.u32(static_cast<std::uint32_t>(sensor().channels().size()));
  w.blob(bytes_of(source_->source_kind()));
  w.blob(source_->save());
  w.u64(now_ns_);
  w.blob(bytes_of(std::string_view(partial_).substr(std::min(partial_pos_, partial_.size()))));
  w.boolean(partial_is_sample_);
  w.boolean(header_pending_);
  w.u32(static_cast<std::uint32_t>(control_.size()));
  for (const std::string& line : control_) w.blob(bytes_of(line));
  w.u64(dropped_pending_);
  w.u32(static_cast<std::uint32_t>(samples_.size()));
  for (const Sample& s : samples_) {
    w.u32(s.channel);
    w.u64(s.seq);
    w.u64(s.timestamp_ns);
    w.u64(static_cast<std::uint64_t>(s.value_milli));
  }
  w.boolean(end_sent_);
  w.blob(bytes_of(last_fault_));
  w.blob(bytes_of(input_));
  w.boolean(discarding_);
  for (const std::uint64_t m : {metrics_.samples_produced, metrics_.samples_delivered, metrics_.samples_dropped,
                                metrics_.commands, metrics_.commands_refused, metrics_.bytes_out}) {
    w.u64(m);
  }
  return DeviceState{kStateKind, kStateVersion, w.take()};
}

tl::expected<void, StateError> SensorPort::restore_state(const DeviceState& state) {
  if (auto header = check_state_header(state, kStateKind, kStateVersion); !header) return header;
  Decoder d(state.payload);
  const std::string name = d.text(Sensor::kMaxNameLength);
  const std::uint8_t kind = d.u8();
  const std::uint32_t channels = d.u32();
  const std::string source_kind = d.text(kMaxTagState);
  const std::vector<std::uint8_t> source_state = d.blob(kMaxSourceState);
  if (!d.error() && (name != sensor().name() || kind != static_cast<std::uint8_t>(sensor().kind()) ||
                     channels != sensor().channels().size())) {
    d.fail(fmt::format("state of sensor '{}' ({} channels) cannot restore sensor '{}' ({} channels, kind {})", name,
                       channels, sensor().name(), sensor().channels().size(), kind_name(sensor().kind())));
  }
  if (!d.error() && source_kind != source_->source_kind()) {
    d.fail(fmt::format("state of a {} source cannot restore a {} source", source_kind, source_->source_kind()));
  }
  const std::uint64_t now = d.u64();
  std::string partial = d.text(kMaxLineState);
  const bool partial_is_sample = d.boolean();
  const bool header_pending = d.boolean();
  const std::uint32_t control_count = d.u32();
  std::deque<std::string> control;
  if (control_count > kMaxControlLines) d.fail(fmt::format("{} queued replies exceed {}", control_count, kMaxControlLines));
  for (std::uint32_t i = 0; i < control_count && !d.error(); ++i) control.push_back(d.text(kMaxLineState));
  const std::uint64_t dropped = d.u64();
  const std::uint32_t sample_count = d.u32();
  std::deque<Sample> samples;
  if (sample_count > options_.max_queued_samples) {
    d.fail(fmt::format("{} queued samples exceed this port's {}", sample_count, options_.max_queued_samples));
  }
  for (std::uint32_t i = 0; i < sample_count && !d.error(); ++i) {
    Sample s;
    s.channel = d.u32();
    s.seq = d.u64();
    s.timestamp_ns = d.u64();
    s.value_milli = static_cast<std::int64_t>(d.u64());
    if (s.channel >= channels) d.fail(fmt::format("queued sample of channel {} of {}", s.channel, channels));
    samples.push_back(s);
  }
  const bool end_sent = d.boolean();
  std::string last_fault = d.text(kMaxLineState);
  std::string input = d.text(kMaxCommandLine);
  const bool discarding = d.boolean();
  PortMetrics metrics;
  for (std::uint64_t* m : {&metrics.samples_produced, &metrics.samples_delivered, &metrics.samples_dropped,
                           &metrics.commands, &metrics.commands_refused, &metrics.bytes_out}) {
    *m = d.u64();
  }
  if (!d.error() && !d.at_end()) d.fail("sensor port state has trailing bytes");
  if (d.error()) return tl::unexpected(StateError{"sensor port: " + *d.error()});

  // The source restores all or nothing; after it succeeds nothing below can fail.
  if (auto restored = source_->restore(source_state); !restored) {
    return tl::unexpected(StateError{"sensor port: " + restored.error().message});
  }
  now_ns_ = now;
  partial_ = std::move(partial);
  partial_pos_ = 0;
  partial_is_sample_ = partial_is_sample;
  header_pending_ = header_pending;
  control_ = std::move(control);
  dropped_pending_ = dropped;
  samples_ = std::move(samples);
  end_sent_ = end_sent;
  last_fault_ = std::move(last_fault);
  input_ = std::move(input);
  discarding_ = discarding;
  metrics_ = metrics;
  return {};
}

}  // namespace tilehv::vdevices::sensors
