// Sensor log: one sensor port of the sensor logger.
#include "sensor_log.hpp"

#include <guest/checksum.hpp>
#include <guest/console.hpp>

using guest::StrView;
using guest::print;
namespace sensor = guest::sensor;

namespace sensor_logger {
namespace {

// Malformed lines are counted in the report; the first few are named as they come.
constexpr uint32_t kMalformedPrinted = 4;

}  // namespace

bool SensorLog::open(guest::virtio::ConsoleDevice& console, uint32_t id, uint64_t samples_wanted,
                     const RateRequests& requests) {
  wanted_ = samples_wanted;
  requests_ = &requests;
  digest_ = guest::checksum::fnv1a64_offset;
  return port_.open(console, id);
}

size_t SensorLog::drain(size_t max_lines) {
  size_t handled = 0;
  sensor::Line line;
  while (handled < max_lines && !finished() && port_.next(line)) {
    handle(line);
    ++handled;
    if (failed() && failed_line_[0] == '\0') {
      // Keep the line that made the stream fatal, printable: it may hold any byte.
      const size_t n = line.text.size() < sizeof failed_line_ - 1 ? line.text.size() : sizeof failed_line_ - 1;
      for (size_t i = 0; i < n; ++i) {
        const char c = line.text[i];
        failed_line_[i] = c >= ' ' && c <= '~' && c != '"' ? c : '?';
      }
      failed_line_[n] = '\0';
    }
  }
  return handled;
}

void SensorLog::handle(const sensor::Line& line) {
  switch (line.kind) {
    case sensor::LineKind::sample: on_sample(line); break;
    case sensor::LineKind::rate_ok:
    case sensor::LineKind::error: on_reply(line); break;
    case sensor::LineKind::fault: print("sensor-logger: {}: fault: {}\n", name(), line.message); break;
    case sensor::LineKind::end:
      print("sensor-logger: {}: end of stream\n", name());
      ended_ = true;
      break;
    case sensor::LineKind::malformed:
      if (malformed_printed_ < kMalformedPrinted) {
        ++malformed_printed_;
        print("sensor-logger: {}: skipped a malformed line ({})\n", name(), sensor::problem_name(line.problem));
      }
      break;
    default: break;
  }
  if (line.header_complete && !announced_) on_description();
  update_collected();
}

void SensorLog::on_description() {
  announced_ = true;
  const sensor::SensorInfo& info = port_.stream().info();
  print("sensor-logger: {}: kind {}, source {}, {} channels\n", name(), StrView(info.kind), StrView(info.source),
        info.channel_count);
  for (uint32_t i = 0; i < info.channel_count; ++i) {
    const sensor::ChannelInfo& c = info.channels[i];
    print("sensor-logger: {}.{}: unit {}, range {}..{}, rate {} mHz ({}..{})\n", name(), StrView(c.name),
          StrView(c.unit), milli_text(c.min_milli).view(), milli_text(c.max_milli).view(), c.rate_mhz,
          c.min_rate_mhz, c.max_rate_mhz);
  }
  // Rate requests go out once, after the description: their replies come before later samples.
  for (size_t r = 0; r < requests_->count; ++r) {
    const RateRequest& request = requests_->items[r];
    if (!(request.sensor == name())) continue;
    if (port_.request_rate(request.channel, request.rate_mhz)) {
      sent_[sent_count_++] = r;
    } else {
      print("sensor-logger: {}.{}: rate {} mHz not sent: the device did not take it\n", name(), request.channel,
            request.rate_mhz);
    }
  }
}

void SensorLog::on_sample(const sensor::Line& line) {
  // Every sample line consumed goes into the digest, whole, with its newline: a test computes the
  // same digest over the same lines and compares bit for bit.
  digest_ = guest::checksum::fnv1a64(line.text.data(), line.text.size(), digest_);
  digest_ = guest::checksum::fnv1a64("\n", 1, digest_);
  ChannelStats& stats = stats_[line.sample.channel];
  if (stats.count() >= wanted_) return;
  stats.add(line.sample.timestamp_ns, line.sample.value_milli);
  if (stats.count() == wanted_) dropped_[line.sample.channel] = port_.stream().counters().dropped;
}

void SensorLog::on_reply(const sensor::Line& line) {
  // Replies come in the order of the commands; one without a command is the tile's own notice.
  if (answered_ == sent_count_) {
    print("sensor-logger: {}: tile says: {}\n", name(), line.text);
    return;
  }
  const RateRequest& request = requests_->items[sent_[answered_++]];
  const sensor::RateReply& reply = port_.last_reply();
  if (reply.status == sensor::RateReply::Status::ok) {
    print("sensor-logger: {}.{}: rate {} mHz from {}\n", name(), request.channel, reply.rate_mhz, reply.from_ns);
  } else {
    print("sensor-logger: {}.{}: rate {} mHz refused: {}\n", name(), request.channel, request.rate_mhz,
          StrView(reply.message));
  }
}

void SensorLog::update_collected() {
  if (!announced_ || port_.pending_replies() > 0) return;
  for (uint32_t i = 0; i < channel_count(); ++i) {
    if (stats_[i].count() < wanted_) return;
  }
  collected_ = true;
}

uint64_t SensorLog::samples_collected() const {
  uint64_t total = 0;
  for (uint32_t i = 0; i < channel_count(); ++i) total += stats_[i].count();
  return total;
}

void SensorLog::print_failure() const {
  print("sensor-logger: {}: stream malformed beyond repair: {} (line \"{}\")\n", name(),
        sensor::fatal_name(port_.stream().fatal()), StrView(failed_line_));
}

void SensorLog::print_report() const {
  const sensor::SensorInfo& info = port_.stream().info();
  const sensor::StreamCounters& counters = port_.stream().counters();
  for (uint32_t i = 0; i < info.channel_count; ++i) {
    const ChannelStats& s = stats_[i];
    const uint64_t dropped = s.count() >= wanted_ ? dropped_[i] : counters.dropped;
    if (s.count() == 0) {
      print("sensor-logger: {}.{} {}: n 0 dropped {}\n", name(), StrView(info.channels[i].name),
            StrView(info.channels[i].unit), dropped);
      continue;
    }
    print("sensor-logger: {}.{} {}: n {} min {} mean {} max {} first_ts {} last_ts {} dropped {}\n", name(),
          StrView(info.channels[i].name), StrView(info.channels[i].unit), s.count(), milli_text(s.min()).view(),
          milli_text(s.mean()).view(), milli_text(s.max()).view(), s.first_ns(), s.last_ns(), dropped);
  }
  print("sensor-logger: {} stream: {} lines, {} samples, {} malformed, {} unframed, {} unknown, {} dropped, "
        "{} seq breaks, {} faults\n",
        name(), counters.lines, counters.samples, counters.malformed, counters.unframed, counters.unknown,
        counters.dropped, counters.seq_breaks, counters.faults);
  print("sensor-logger: {} digest {:016x}\n", name(), digest_);
}

}  // namespace sensor_logger
