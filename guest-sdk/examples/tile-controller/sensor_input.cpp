// Sensor input: from a sensor port's lines to the controller's inputs.
#include "sensor_input.hpp"

#include <guest/console.hpp>

#include "variant.hpp"

using guest::StrView;
using guest::print;
namespace sensor = guest::sensor;

namespace tile_controller {
namespace {

// Malformed lines are counted in the summary; the first few are named as they come.
constexpr uint32_t kMalformedPrinted = 4;
// The controller's input channel: a thermal sensor's temperature.
constexpr uint32_t kInputChannel = 0;

}  // namespace

bool SensorInput::open(guest::virtio::ConsoleDevice& console, StrView wanted, uint64_t rate_mhz) {
  rate_mhz_ = rate_mhz;
  uint32_t ids[guest::virtio::ConsoleDevice::kMaxPorts];
  const size_t found = sensor::find_ports(console, ids, guest::virtio::ConsoleDevice::kMaxPorts);
  for (size_t i = 0; i < found; ++i) {
    const StrView port_name(console.port(ids[i]).name);
    if (!wanted.empty() && !(port_name.substr(sensor::kPortPrefix.size()) == wanted)) continue;
    if (port_.open(console, ids[i])) return true;
    print("{}: cannot open port {} ({})\n", variant::kName, ids[i], port_name);
    return false;
  }
  if (wanted.empty()) {
    print("{}: no sensor.* port among the console's {} ports\n", variant::kName, console.device_ports());
  } else {
    print("{}: no port sensor.{} among the console's {} ports\n", variant::kName, wanted, console.device_ports());
  }
  return false;
}

SensorInput::Event SensorInput::next(Input& out, size_t max_lines) {
  sensor::Line line;
  for (size_t handled = 0; handled < max_lines; ++handled) {
    if (port_.stream().fatal() != sensor::Fatal::none) return Event::failed;
    if (!port_.next(line)) break;
    if (line.header_complete && !described_) on_description();
    switch (line.kind) {
      case sensor::LineKind::sample:
        if (line.sample.channel != kInputChannel) break;
        out.timestamp_ns = line.sample.timestamp_ns;
        out.milli = line.sample.value_milli;
        return Event::input;
      case sensor::LineKind::rate_ok:
      case sensor::LineKind::error:
        if (!on_reply(line)) return Event::rate_refused;
        break;
      case sensor::LineKind::fault: print("{}: {}: fault: {}\n", variant::kName, name(), line.message); break;
      case sensor::LineKind::end: return Event::ended;
      case sensor::LineKind::malformed:
        if (malformed_printed_ < kMalformedPrinted) {
          ++malformed_printed_;
          print("{}: {}: skipped a malformed line ({})\n", variant::kName, name(), sensor::problem_name(line.problem));
        }
        break;
      default: break;
    }
  }
  return Event::idle;
}

void SensorInput::on_description() {
  described_ = true;
  const sensor::ChannelInfo& channel = port_.stream().info().channels[kInputChannel];
  print("{}: {}: input {}.{} in milli-{}, rate {} mHz\n", variant::kName, name(), name(), StrView(channel.name),
        StrView(channel.unit), channel.rate_mhz);
  if (rate_mhz_ == 0) return;
  // The rate's first sample depends on when the tile gets the command (docs/sensors.md, Virtual
  // time and rates), so runs that must match bit for bit take their rate from the tile instead.
  awaiting_rate_ = port_.request_rate("0", rate_mhz_);
  if (!awaiting_rate_) {
    print("{}: {}: rate {} mHz not sent: the device did not take it\n", variant::kName, name(), rate_mhz_);
  }
}

bool SensorInput::on_reply(const sensor::Line& line) {
  if (!awaiting_rate_) {
    // Nobody asked: the tile's own notice.
    print("{}: {}: tile says: {}\n", variant::kName, name(), line.text);
    return true;
  }
  awaiting_rate_ = false;
  const sensor::RateReply& reply = port_.last_reply();
  if (reply.status == sensor::RateReply::Status::ok) {
    print("{}: {}: rate {} mHz from {}\n", variant::kName, name(), reply.rate_mhz, reply.from_ns);
    return true;
  }
  print("{}: {}: rate {} mHz refused: {}\n", variant::kName, name(), rate_mhz_, StrView(reply.message));
  return false;
}

void SensorInput::print_failure() const {
  print("{}: {}: stream malformed beyond repair: {}\n", variant::kName, name(),
        sensor::fatal_name(port_.stream().fatal()));
}

}  // namespace tile_controller
