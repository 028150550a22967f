// Wire format: the text lines of a sensor port's byte stream, version 1.
#include "sensors/wire_format.hpp"

#include <fmt/format.h>

namespace tilehv::vdevices::sensors {
namespace {

// A metadata line stays one line whatever a message holds, and bounded.
constexpr std::size_t kMaxMessage = 200;

std::string_view one_line(std::string_view message) {
  std::size_t end = 0;
  while (end < message.size() && end < kMaxMessage && static_cast<unsigned char>(message[end]) >= 0x20 &&
         static_cast<unsigned char>(message[end]) < 0x7f) {
    ++end;
  }
  return message.substr(0, end);
}

}  // namespace

std::string header_lines(const Sensor& sensor, std::string_view source_kind) {
  std::string out = fmt::format("#tilehv-sensor v{} name={} kind={} source={} channels={}\n", kWireVersion,
                                sensor.name(), kind_name(sensor.kind()), source_kind, sensor.channels().size());
  for (std::size_t i = 0; i < sensor.channels().size(); ++i) {
    const Channel& c = sensor.channel(i);
    out += fmt::format("#channel {} name={} unit={} scale={} min={} max={} rate={} min_rate={} max_rate={}\n", i,
                       c.name, c.unit, kWireScale, c.min_milli, c.max_milli, c.rate_mhz, c.min_rate_mhz,
                       c.max_rate_mhz);
  }
  return out;
}

std::string sample_line(const Sample& s) {
  return fmt::format("{} {} {} {}\n", s.seq, s.timestamp_ns, s.channel, s.value_milli);
}

std::string dropped_line(std::uint64_t count) { return fmt::format("#dropped {}\n", count); }

std::string rate_ok_line(std::size_t channel, std::uint64_t rate_mhz, std::uint64_t from_ns) {
  return fmt::format("#ok rate {} {} from={}\n", channel, rate_mhz, from_ns);
}

std::string error_line(std::string_view message) { return fmt::format("#error {}\n", one_line(message)); }

std::string fault_line(std::string_view message) { return fmt::format("#fault {}\n", one_line(message)); }

std::string end_line() { return "#end\n"; }

}  // namespace tilehv::vdevices::sensors
