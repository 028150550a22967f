// IPv4 (RFC 791): validating received packets and writing the 20-byte header of sent ones. No
// fragmentation: fragments are refused, and sent packets carry Don't Fragment.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/net/address.hpp>

namespace guest::net {

inline constexpr size_t ipv4_header_size = 20;  // as sent: no options
inline constexpr uint8_t ip_protocol_icmp = 1;
inline constexpr uint8_t ip_protocol_udp = 17;

struct Ipv4Packet {
  Ipv4Address source;
  Ipv4Address destination;
  uint8_t protocol;
  const uint8_t* payload;
  size_t payload_size;  // from the total length field, so Ethernet padding is left out
};

// False for anything but a well-formed, unfragmented IPv4 packet from a unicast source: version 4, a
// header length of 20..60 bytes inside the data, a total length covering the header and inside the
// data, a correct header checksum, no reserved flag, no fragment offset and no More Fragments.
bool parse_ipv4(const uint8_t* data, size_t size, Ipv4Packet& out);

// Writes a 20-byte header (TTL 64, Don't Fragment) for payload_size bytes that follow it.
void write_ipv4_header(uint8_t* out, Ipv4Address source, Ipv4Address destination, uint8_t protocol,
                       uint16_t identification, size_t payload_size);

}  // namespace guest::net
