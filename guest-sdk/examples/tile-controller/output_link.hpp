// Output link: where the controller's payloads go. Actuator commands and telemetry are UDP datagrams
// to one peer, each kind on its own port; every payload also goes into a digest (FNV-1a 64, in
// the order sent), so a test or an operator compares two runs by one number.
#pragma once

#include <cstdint>

#include <guest/checksum.hpp>
#include <guest/net/address.hpp>
#include <guest/net/stack.hpp>

#include "payload.hpp"

namespace tile_controller {

struct OutputCounters {
  uint64_t commands = 0;
  uint64_t telemetry = 0;
  uint64_t bytes = 0;
  uint64_t unsent = 0;  // payloads the network did not take (no ARP answer, transmit queue stuck)
};

class OutputLink {
 public:
  OutputLink(guest::net::Stack& stack, guest::net::Ipv4Address peer, uint16_t actuator_port, uint16_t telemetry_port)
      : stack_(stack), peer_(peer), actuator_port_(actuator_port), telemetry_port_(telemetry_port) {}

  void send_command(const Payload& payload);
  void send_telemetry(const Payload& payload);

  [[nodiscard]] uint64_t digest() const { return digest_; }
  [[nodiscard]] const OutputCounters& counters() const { return counters_; }

 private:
  void send(uint16_t port, const Payload& payload);

  guest::net::Stack& stack_;
  guest::net::Ipv4Address peer_;
  uint16_t actuator_port_;
  uint16_t telemetry_port_;
  uint64_t digest_ = guest::checksum::fnv1a64_offset;  // the digest of nothing
  OutputCounters counters_;
};

}  // namespace tile_controller
