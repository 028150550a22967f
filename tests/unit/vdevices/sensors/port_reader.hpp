// Test helpers for sensor ports: build a synthetic port, feed it guest bytes, drain its stream.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sensors/sensor_port.hpp"
#include "sensors/synthetic_source.hpp"

namespace tilehv::vdevices::sensors::testing {

inline std::unique_ptr<SensorPort> synthetic_port(SensorKind kind, std::uint64_t seed, PortOptions options = {},
                                                  std::uint32_t poe_ports = 4) {
  auto sensor = Sensor::create(SensorSpec{std::string(kind_name(kind)) + "0", kind, poe_ports});
  auto source = SyntheticSource::create(std::move(*sensor), SyntheticParams{seed});
  return std::move(*SensorPort::create(std::move(*source), options));
}

// Everything the port has to say, read `chunk` bytes at a time.
inline std::string drain(SensorPort& port, std::size_t chunk = 4096) {
  std::string out;
  std::vector<std::uint8_t> buf(chunk);
  while (const std::size_t n = port.read(buf)) out.append(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
  return out;
}

inline std::size_t send(SensorPort& port, std::string_view text) {
  // SAFETY: a view of the test's own chars as bytes.
  return port.write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

inline std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    out.emplace_back(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return out;
}

// The sample lines only, parsed.
inline std::vector<Sample> samples_of(std::string_view text) {
  std::vector<Sample> out;
  for (const std::string& line : lines_of(text)) {
    if (line.empty() || line[0] == '#') continue;
    unsigned long long seq = 0, ts = 0;
    unsigned ch = 0;
    long long value = 0;
    if (std::sscanf(line.c_str(), "%llu %llu %u %lld", &seq, &ts, &ch, &value) == 4) {
      out.push_back(Sample{ch, seq, ts, value});
    }
  }
  return out;
}

}  // namespace tilehv::vdevices::sensors::testing
