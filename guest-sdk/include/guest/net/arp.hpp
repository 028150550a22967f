// ARP (RFC 826) for IPv4 over Ethernet: the 28-byte request and reply messages.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/net/address.hpp>

namespace guest::net {

inline constexpr size_t arp_message_size = 28;
inline constexpr uint16_t arp_request = 1;
inline constexpr uint16_t arp_reply = 2;

struct ArpMessage {
  uint16_t operation;
  MacAddress sender_mac;
  Ipv4Address sender_ip;
  MacAddress target_mac;
  Ipv4Address target_ip;
};

// False unless the message is Ethernet/IPv4 ARP (hardware type 1, protocol 0x0800, address sizes 6
// and 4) with a request or reply operation and at least 28 bytes.
bool parse_arp(const uint8_t* data, size_t size, ArpMessage& out);
// Writes the 28-byte message.
void write_arp(uint8_t* out, const ArpMessage& message);

}  // namespace guest::net
