// UDP (RFC 768) over IPv4: validating received datagrams and writing sent ones with their checksum.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/net/address.hpp>
#include <guest/net/ipv4.hpp>

namespace guest::net {

inline constexpr size_t udp_header_size = 8;

struct UdpDatagram {
  uint16_t source_port;
  uint16_t destination_port;
  const uint8_t* payload;
  size_t payload_size;
};

// False unless the UDP length covers the header and lies inside the IP payload, the destination port
// is nonzero, and a nonzero checksum is correct over the pseudo-header (zero means the sender did not
// compute one, which RFC 768 allows over IPv4).
bool parse_udp(const Ipv4Packet& packet, UdpDatagram& out);

// Writes the header and copies the payload after it, with the checksum over the pseudo-header. Returns
// the UDP length (header + payload).
size_t write_udp(uint8_t* out, Ipv4Address source, Ipv4Address destination, uint16_t source_port,
                 uint16_t destination_port, const void* payload, size_t payload_size);

}  // namespace guest::net
