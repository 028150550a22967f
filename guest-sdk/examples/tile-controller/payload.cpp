// Payloads: formatting the actuator command and telemetry lines.
#include "payload.hpp"

#include <guest/format.hpp>

namespace tile_controller {

Payload command_payload(const Command& c) {
  Payload p;
  p.size = guest::format_to_buffer(p.text, sizeof p.text, "cmd seq={} t={} temp={} avg={} valve={}\n", c.seq,
                                   c.timestamp_ns, c.temperature_milli, c.average_milli, c.valve);
  return p;
}

Payload telemetry_payload(const Telemetry& t) {
  Payload p;
  p.size = guest::format_to_buffer(p.text, sizeof p.text, "tel seq={} n={} min={} max={} mean={} valve={}\n", t.seq,
                                   t.count, t.min_milli, t.max_milli, t.mean_milli, t.valve);
  return p;
}

}  // namespace tile_controller
