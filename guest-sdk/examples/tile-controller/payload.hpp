// Payloads: the text lines the controller sends, one per UDP datagram. Plain `key=value` words so a
// comparator can match fields (docs/design/shadows.md, rule `fields`) and a person can read them.
//
//   cmd seq=<input> t=<sample timestamp ns> temp=<milli-°C> avg=<milli-°C> valve=<0..1000>\n
//   tel seq=<input> n=<K> min=<milli-°C> max=<milli-°C> mean=<milli-°C> valve=<0..1000>\n
#pragma once

#include <cstddef>

#include "controller.hpp"

namespace tile_controller {

// Room for either line with every number at its widest (20 digits and a sign).
inline constexpr size_t kMaxPayload = 160;

struct Payload {
  char text[kMaxPayload];
  size_t size;
};

Payload command_payload(const Command& command);
Payload telemetry_payload(const Telemetry& telemetry);

}  // namespace tile_controller
