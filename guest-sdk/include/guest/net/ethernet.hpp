// Ethernet II framing (IEEE 802.3 with an EtherType): the 14-byte header before every frame's payload.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/net/address.hpp>

namespace guest::net {

inline constexpr size_t ethernet_header_size = 14;
// The shortest frame on the wire without its FCS: shorter frames are padded with zeros.
inline constexpr size_t ethernet_min_frame_size = 60;
inline constexpr uint16_t ethertype_ipv4 = 0x0800;
inline constexpr uint16_t ethertype_arp = 0x0806;

struct EthernetFrame {
  MacAddress destination;
  MacAddress source;
  uint16_t type;
  const uint8_t* payload;
  size_t payload_size;  // may include padding: the protocol inside knows its real length
};

// False for a frame shorter than its header.
bool parse_ethernet(const uint8_t* frame, size_t size, EthernetFrame& out);
void write_ethernet_header(uint8_t* out, const MacAddress& destination, const MacAddress& source, uint16_t type);

}  // namespace guest::net
