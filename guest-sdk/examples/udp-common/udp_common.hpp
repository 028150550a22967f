// UDP examples' common part: the command line they share and bringing up the virtio-net device.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/net/address.hpp>
#include <guest/str_view.hpp>
#include <guest/virtio_net.hpp>

namespace udp_example {

struct Config {
  guest::StrView role;
  guest::net::Ipv4Address ip;
  guest::net::Ipv4Address peer;
  uint64_t count;
  uint64_t size;     // UDP payload bytes
  uint16_t port;     // both ends use it as source and destination port
  uint64_t wait_ms;  // how long to wait for the peer to show up
};

struct Defaults {
  const char* ip;
  const char* peer;
  uint64_t count;
  uint64_t size;
  uint64_t min_size;
  uint64_t max_count;
};

// Reads role, ip, peer, count, size, port (default 7777) and wait_ms (default 30000); prints
// "<name>: <what is wrong>" and returns false for a value that does not parse or is out of range.
bool parse_config(const char* name, const Defaults& defaults, Config& out);

// Brings up the first virtio-net device with queues of queue=N entries (default 256); prints
// "<name>: ..." and returns false when that fails.
bool bring_up(const char* name, guest::virtio::NetDevice& device);

// Fills a payload body with a fixed pattern, so a corrupted byte shows. Fixed rather than per
// datagram: the datagrams differ in their sequence numbers, and generating a body per datagram would
// cost more guest instructions than the rest of the send path.
void fill_pattern(uint8_t* body, size_t size);

}  // namespace udp_example
