// Output link: payloads as UDP datagrams, and their digest.
#include "output_link.hpp"

#include <guest/checksum.hpp>

namespace tile_controller {

void OutputLink::send_command(const Payload& payload) {
  ++counters_.commands;
  send(actuator_port_, payload);
}

void OutputLink::send_telemetry(const Payload& payload) {
  ++counters_.telemetry;
  send(telemetry_port_, payload);
}

void OutputLink::send(uint16_t port, const Payload& payload) {
  // The digest covers what the controller decided to send, whether or not the network took it: it
  // describes the controller, and a lost datagram is counted apart.
  digest_ = guest::checksum::fnv1a64(payload.text, payload.size, digest_);
  counters_.bytes += payload.size;
  // Each kind leaves from its own port number too, so a peer tells them apart either way.
  if (stack_.send_udp(port, peer_, port, payload.text, payload.size) != guest::net::SendStatus::sent) {
    ++counters_.unsent;
  }
}

}  // namespace tile_controller
