// UDP (RFC 768) over IPv4: validating received datagrams and writing sent ones with their checksum.
#include <guest/net/bytes.hpp>
#include <guest/net/internet_checksum.hpp>
#include <guest/net/udp.hpp>

namespace guest::net {
namespace {

// The pseudo-header of RFC 768: source, destination, zero, protocol, UDP length.
uint64_t pseudo_header_sum(Ipv4Address source, Ipv4Address destination, size_t udp_length) {
  uint8_t pseudo[12];
  store32(pseudo, source.value);
  store32(pseudo + 4, destination.value);
  pseudo[8] = 0;
  pseudo[9] = ip_protocol_udp;
  store16(pseudo + 10, static_cast<uint16_t>(udp_length));
  return checksum_add(pseudo, sizeof pseudo);
}

}  // namespace

bool parse_udp(const Ipv4Packet& packet, UdpDatagram& out) {
  if (packet.payload_size < udp_header_size) return false;
  const uint8_t* data = packet.payload;
  const size_t length = load16(data + 4);
  if (length < udp_header_size || length > packet.payload_size) return false;
  out.source_port = load16(data);
  out.destination_port = load16(data + 2);
  if (out.destination_port == 0) return false;
  if (load16(data + 6) != 0) {
    const uint64_t sum = checksum_add(data, length, pseudo_header_sum(packet.source, packet.destination, length));
    if (checksum_finish(sum) != 0) return false;
  }
  out.payload = data + udp_header_size;
  out.payload_size = length - udp_header_size;
  return true;
}

size_t write_udp(uint8_t* out, Ipv4Address source, Ipv4Address destination, uint16_t source_port,
                 uint16_t destination_port, const void* payload, size_t payload_size) {
  const size_t length = udp_header_size + payload_size;
  store16(out, source_port);
  store16(out + 2, destination_port);
  store16(out + 4, static_cast<uint16_t>(length));
  store16(out + 6, 0);
  __builtin_memcpy(out + udp_header_size, payload, payload_size);
  uint16_t checksum = checksum_finish(checksum_add(out, length, pseudo_header_sum(source, destination, length)));
  // A computed zero is sent as all ones: zero on the wire means "no checksum" (RFC 768).
  if (checksum == 0) checksum = 0xffff;
  store16(out + 6, checksum);
  return length;
}

}  // namespace guest::net
