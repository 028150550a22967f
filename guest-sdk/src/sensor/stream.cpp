// Sensor stream: lines checked against the sensor's description, SEQ numbers and announced drops.
#include <guest/sensor/stream.hpp>

namespace guest::sensor {
namespace {

// Copies a name the parser validated (it fits) into a terminated field.
template <size_t N>
void copy_name(char (&out)[N], StrView name) {
  const size_t n = name.size() < N - 1 ? name.size() : N - 1;
  __builtin_memcpy(out, name.data(), n);
  out[n] = '\0';
}

bool same_channels(const SensorInfo& a, const SensorInfo& b) {
  if (a.channel_count != b.channel_count) return false;
  for (uint32_t i = 0; i < a.channel_count; ++i) {
    if (!(StrView(a.channels[i].name) == StrView(b.channels[i].name))) return false;
  }
  return true;
}

}  // namespace

void Stream::expect_name(StrView name) { copy_name(expected_name_, name); }

size_t Stream::consume(const uint8_t* data, size_t size, Line& line) {
  bool complete = false;
  const size_t taken = buffer_.push(data, size, complete);
  line = Line{};
  if (!complete) return taken;
  if (buffer_.overlong()) {
    line.kind = LineKind::malformed;
    line.problem = Problem::overlong;
  } else {
    line = parse_line(buffer_.line());
  }
  apply(line);
  return taken;
}

void Stream::apply(Line& line) {
  ++counters_.lines;
  switch (line.kind) {
    case LineKind::header: apply_header(line); break;
    case LineKind::channel: apply_channel(line); break;
    case LineKind::sample: apply_sample(line); break;
    case LineKind::rate_ok: apply_rate(line); break;
    case LineKind::dropped:
      counters_.dropped += line.dropped;
      // The SEQ gap after "#dropped N" is exactly N.
      if (have_seq_) next_seq_ += line.dropped;
      break;
    case LineKind::fault: ++counters_.faults; break;
    case LineKind::unknown: ++counters_.unknown; break;
    default: break;
  }
  if (line.kind == LineKind::malformed) {
    ++counters_.malformed;
    if (++malformed_run_ >= kMaxMalformedRun) fail(Fatal::malformed_run);
  } else {
    malformed_run_ = 0;
  }
  if (line.kind == LineKind::unframed) ++counters_.unframed;
}

void Stream::apply_header(Line& line) {
  if (line.header.version != 1) return fail(Fatal::unsupported_version);
  if (line.header.channels > kMaxChannels) return fail(Fatal::too_many_channels);
  if (expected_name_[0] != '\0' && !(line.header.name == StrView(expected_name_))) return fail(Fatal::wrong_sensor);
  // A repeated header (the port was reopened, or "describe") describes the sensor afresh; until its
  // channels are in, samples cannot be checked and are skipped.
  incoming_ = SensorInfo{};
  copy_name(incoming_.name, line.header.name);
  copy_name(incoming_.kind, line.header.kind);
  copy_name(incoming_.source, line.header.source);
  incoming_.channel_count = line.header.channels;
  described_ = false;
  receiving_ = true;
  next_channel_ = 0;
}

void Stream::apply_channel(Line& line) {
  if (!receiving_ || line.channel.index != next_channel_) {
    line.kind = LineKind::malformed;
    line.problem = Problem::channel_out_of_order;
    return;
  }
  ChannelInfo& c = incoming_.channels[next_channel_];
  copy_name(c.name, line.channel.name);
  copy_name(c.unit, line.channel.unit);
  c.min_milli = line.channel.min_milli;
  c.max_milli = line.channel.max_milli;
  c.rate_mhz = line.channel.rate_mhz;
  c.min_rate_mhz = line.channel.min_rate_mhz;
  c.max_rate_mhz = line.channel.max_rate_mhz;
  if (++next_channel_ == incoming_.channel_count) complete_description(line);
}

void Stream::complete_description(Line& line) {
  receiving_ = false;
  // Statistics kept per channel index would mix two different channels.
  if (ever_described_ && !same_channels(info_, incoming_)) return fail(Fatal::channels_changed);
  info_ = incoming_;
  described_ = true;
  ever_described_ = true;
  line.header_complete = true;
}

void Stream::apply_sample(Line& line) {
  const SampleLine& s = line.sample;
  if (described_ && s.channel >= info_.channel_count) {
    line.kind = LineKind::malformed;
    line.problem = Problem::channel_out_of_range;
    return;
  }
  if (described_ && (s.value_milli < info_.channels[s.channel].min_milli ||
                     s.value_milli > info_.channels[s.channel].max_milli)) {
    line.kind = LineKind::malformed;
    line.problem = Problem::value_out_of_range;
    return;
  }
  // Only plausible samples move the SEQ check: a corrupted line must not make the next good one
  // look out of order.
  if (have_seq_ && s.seq != next_seq_) ++counters_.seq_breaks;
  have_seq_ = true;
  next_seq_ = s.seq + 1;
  if (!described_) {
    line.kind = LineKind::unframed;
    return;
  }
  ++counters_.samples;
}

void Stream::apply_rate(Line& line) {
  if (!described_) return;  // the next description carries the new rate anyway
  if (line.rate.channel >= info_.channel_count) {
    line.kind = LineKind::malformed;
    line.problem = Problem::channel_out_of_range;
    return;
  }
  info_.channels[line.rate.channel].rate_mhz = line.rate.rate_mhz;
}

void Stream::fail(Fatal reason) {
  if (fatal_ == Fatal::none) fatal_ = reason;
}

const char* fatal_name(Fatal fatal) {
  switch (fatal) {
    case Fatal::none: return "none";
    case Fatal::unsupported_version: return "the header names a wire format version other than v1";
    case Fatal::too_many_channels: return "the header declares more channels than the driver holds";
    case Fatal::wrong_sensor: return "the header names another sensor than the port";
    case Fatal::channels_changed: return "a later header lists other channels";
    case Fatal::malformed_run: return "too many malformed lines in a row";
  }
  return "unknown";
}

}  // namespace guest::sensor
