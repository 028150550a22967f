// Ethernet II framing: the 14-byte header before every frame's payload.
#include <guest/net/bytes.hpp>
#include <guest/net/ethernet.hpp>

namespace guest::net {

bool parse_ethernet(const uint8_t* frame, size_t size, EthernetFrame& out) {
  if (size < ethernet_header_size) return false;
  for (int i = 0; i < 6; ++i) {
    out.destination.bytes[i] = frame[i];
    out.source.bytes[i] = frame[6 + i];
  }
  out.type = load16(frame + 12);
  out.payload = frame + ethernet_header_size;
  out.payload_size = size - ethernet_header_size;
  return true;
}

void write_ethernet_header(uint8_t* out, const MacAddress& destination, const MacAddress& source, uint16_t type) {
  for (int i = 0; i < 6; ++i) {
    out[i] = destination.bytes[i];
    out[6 + i] = source.bytes[i];
  }
  store16(out + 12, type);
}

}  // namespace guest::net
