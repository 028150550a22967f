// ARP (RFC 826) for IPv4 over Ethernet: the 28-byte request and reply messages.
#include <guest/net/arp.hpp>
#include <guest/net/bytes.hpp>
#include <guest/net/ethernet.hpp>

namespace guest::net {
namespace {

constexpr uint16_t hardware_ethernet = 1;

void load_mac(const uint8_t* p, MacAddress& out) {
  for (int i = 0; i < 6; ++i) out.bytes[i] = p[i];
}
void store_mac(uint8_t* p, const MacAddress& mac) {
  for (int i = 0; i < 6; ++i) p[i] = mac.bytes[i];
}

}  // namespace

bool parse_arp(const uint8_t* data, size_t size, ArpMessage& out) {
  if (size < arp_message_size) return false;
  if (load16(data) != hardware_ethernet || load16(data + 2) != ethertype_ipv4 || data[4] != 6 || data[5] != 4) {
    return false;
  }
  out.operation = load16(data + 6);
  if (out.operation != arp_request && out.operation != arp_reply) return false;
  load_mac(data + 8, out.sender_mac);
  out.sender_ip = Ipv4Address{load32(data + 14)};
  load_mac(data + 18, out.target_mac);
  out.target_ip = Ipv4Address{load32(data + 24)};
  return true;
}

void write_arp(uint8_t* out, const ArpMessage& message) {
  store16(out, hardware_ethernet);
  store16(out + 2, ethertype_ipv4);
  out[4] = 6;
  out[5] = 4;
  store16(out + 6, message.operation);
  store_mac(out + 8, message.sender_mac);
  store32(out + 14, message.sender_ip.value);
  store_mac(out + 18, message.target_mac);
  store32(out + 24, message.target_ip.value);
}

}  // namespace guest::net
