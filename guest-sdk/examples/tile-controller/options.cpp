// Options: reading and checking the tile controller's command line.
#include "options.hpp"

#include <guest/cmdline.hpp>
#include <guest/console.hpp>
#include <guest/sensor/fields.hpp>

#include "telemetry_window.hpp"
#include "variant.hpp"

using guest::StrView;
using guest::print;
namespace cmdline = guest::cmdline;

namespace tile_controller {
namespace {

// A thermal channel's range (docs/sensors.md): a setpoint or band outside it could never be met.
constexpr int64_t kMinMilliCelsius = -40'000;
constexpr int64_t kMaxMilliCelsius = 125'000;

bool unsigned_option(StrView key, uint64_t low, uint64_t high, uint64_t& out) {
  const cmdline::Lookup found = cmdline::find(key);
  if (!found.found) return true;  // `out` keeps its default
  const cmdline::ParsedInteger parsed = cmdline::parse_u64(found.value);
  if (parsed.ok && parsed.value >= low && parsed.value <= high) {
    out = parsed.value;
    return true;
  }
  print("{}: bad {} \"{}\" (want {}..{})\n", variant::kName, key, found.value, low, high);
  return false;
}

bool port_option(StrView key, uint16_t& out) {
  uint64_t port = out;
  if (!unsigned_option(key, 1, 65535, port)) return false;
  out = static_cast<uint16_t>(port);
  return true;
}

bool temperature(StrView text, int64_t& out) {
  return guest::sensor::parse_i64(text, out) && out >= kMinMilliCelsius && out <= kMaxMilliCelsius;
}

bool setpoint_option(int64_t& out) {
  const cmdline::Lookup found = cmdline::find("setpoint");
  if (!found.found || temperature(found.value, out)) return true;
  print("{}: bad setpoint \"{}\" (want milli-degC, {}..{})\n", variant::kName, found.value, kMinMilliCelsius,
        kMaxMilliCelsius);
  return false;
}

// band=LO:HI in milli-°C, LO <= HI.
bool band_option(Band& out) {
  const cmdline::Lookup found = cmdline::find("band");
  if (!found.found) return true;
  const size_t colon = found.value.find(':');
  Band band;
  if (colon != StrView::npos && temperature(found.value.substr(0, colon), band.low) &&
      temperature(found.value.substr(colon + 1), band.high) && band.low <= band.high) {
    out = band;
    return true;
  }
  print("{}: bad band \"{}\" (want LO:HI in milli-degC, {}..{}, LO <= HI)\n", variant::kName, found.value,
        kMinMilliCelsius, kMaxMilliCelsius);
  return false;
}

bool address_option(StrView key, const char* fallback, guest::net::Ipv4Address& out) {
  const cmdline::Lookup found = cmdline::find(key);
  const StrView text = found.found ? found.value : StrView(fallback);
  if (guest::net::parse_ipv4_address(text, out) && out.is_unicast()) return true;
  print("{}: bad {} \"{}\" (want a unicast IPv4 address)\n", variant::kName, key, text);
  return false;
}

bool sensor_option(StrView& out) {
  const cmdline::Lookup found = cmdline::find("sensor");
  if (!found.found) return true;
  if (guest::sensor::valid_name(found.value)) {
    out = found.value;
    return true;
  }
  print("{}: bad sensor \"{}\" (want a sensor name: [a-z][a-z0-9_-]{{0,31}})\n", variant::kName, found.value);
  return false;
}

}  // namespace

bool parse_options(Options& out) {
  out.controller.band = Band{21'400, 21'450};
  if (!sensor_option(out.sensor) || !setpoint_option(out.controller.setpoint_milli) ||
      !address_option("ip", "10.0.0.1", out.ip) || !address_option("peer", "10.0.0.2", out.peer) ||
      !port_option("actuator_port", out.actuator_port) || !port_option("telemetry_port", out.telemetry_port) ||
      !unsigned_option("telemetry_every", 1, kMaxTelemetryEvery, out.controller.telemetry_every) ||
      !unsigned_option("count", 1, UINT64_MAX, out.count) || !unsigned_option("rate", 1, UINT64_MAX, out.rate_mhz) ||
      !unsigned_option("header_ms", 1, 3'600'000, out.header_ms) ||
      !unsigned_option("wait_ms", 1, 3'600'000, out.wait_ms)) {
    return false;
  }
  // Only the variants that use them read band= and after=: the others ignore them like any unknown key.
  if (variant::kBandBug && !band_option(out.controller.band)) return false;
  if (variant::kFault != variant::Fault::none && !unsigned_option("after", 0, UINT64_MAX, out.after)) return false;
  return true;
}

}  // namespace tile_controller
