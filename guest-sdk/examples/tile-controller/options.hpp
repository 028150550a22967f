// Options: the tile controller's command line. Every value is checked; a bad one is named on the
// console ("tile-controller v1: bad setpoint "abc" (want milli-°C, -40000..125000)") and the kernel
// exits 1, as the other examples do.
#pragma once

#include <cstdint>

#include <guest/net/address.hpp>
#include <guest/str_view.hpp>

#include "controller.hpp"

namespace tile_controller {

struct Options {
  guest::StrView sensor;  // sensor=NAME: the port sensor.NAME; empty: the first sensor port
  ControllerSettings controller;
  guest::net::Ipv4Address ip;    // ip=: our address (default 10.0.0.1)
  guest::net::Ipv4Address peer;  // peer=: where commands and telemetry go (default 10.0.0.2)
  uint16_t actuator_port = 47808;
  uint16_t telemetry_port = 47809;
  uint64_t count = 0;      // count=N: stop after N inputs; 0 (absent): run forever
  uint64_t rate_mhz = 0;   // rate=: ask the tile for this rate of channel 0; 0 (absent): keep its rate
  uint64_t header_ms = 10'000;  // how long the sensor may take to describe itself
  uint64_t wait_ms = 10'000;    // how long the peer may take to answer ARP
  uint64_t after = 500;    // v4..v6: inputs handled before the fault
};

// Reads the command line into `out`; prints what is wrong and returns false for a bad value.
bool parse_options(Options& out);

}  // namespace tile_controller
