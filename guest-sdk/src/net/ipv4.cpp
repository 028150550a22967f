// IPv4 (RFC 791): validating received packets and writing the header of sent ones.
#include <guest/net/bytes.hpp>
#include <guest/net/internet_checksum.hpp>
#include <guest/net/ipv4.hpp>

namespace guest::net {
namespace {

constexpr uint16_t flag_reserved = 0x8000, flag_dont_fragment = 0x4000, flag_more_fragments = 0x2000;
constexpr uint16_t fragment_offset_mask = 0x1fff;
constexpr uint8_t default_ttl = 64;

}  // namespace

bool parse_ipv4(const uint8_t* data, size_t size, Ipv4Packet& out) {
  if (size < ipv4_header_size) return false;
  if ((data[0] >> 4) != 4) return false;
  const size_t header_size = size_t{data[0] & 0x0fu} * 4;
  if (header_size < ipv4_header_size || header_size > size) return false;
  const size_t total = load16(data + 2);
  if (total < header_size || total > size) return false;
  if (checksum_finish(checksum_add(data, header_size)) != 0) return false;
  const uint16_t flags = load16(data + 6);
  if ((flags & (flag_reserved | flag_more_fragments | fragment_offset_mask)) != 0) return false;
  out.source = Ipv4Address{load32(data + 12)};
  out.destination = Ipv4Address{load32(data + 16)};
  if (!out.source.is_unicast()) return false;
  out.protocol = data[9];
  out.payload = data + header_size;
  out.payload_size = total - header_size;
  return true;
}

void write_ipv4_header(uint8_t* out, Ipv4Address source, Ipv4Address destination, uint8_t protocol,
                       uint16_t identification, size_t payload_size) {
  out[0] = 0x45;  // version 4, five 32-bit words
  out[1] = 0;
  store16(out + 2, static_cast<uint16_t>(ipv4_header_size + payload_size));
  store16(out + 4, identification);
  store16(out + 6, flag_dont_fragment);
  out[8] = default_ttl;
  out[9] = protocol;
  store16(out + 10, 0);
  store32(out + 12, source.value);
  store32(out + 16, destination.value);
  store16(out + 10, checksum_finish(checksum_add(out, ipv4_header_size)));
}

}  // namespace guest::net
