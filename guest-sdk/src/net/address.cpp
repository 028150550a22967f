// Addresses: Ethernet MAC and IPv4 addresses, and parsing dotted-quad text.
#include <guest/net/address.hpp>

namespace guest::net {

bool parse_ipv4_address(StrView text, Ipv4Address& out) {
  uint32_t value = 0;
  size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= text.size() || text[pos] != '.') return false;
      ++pos;
    }
    uint32_t octet = 0;
    size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && digits < 3) {
      octet = octet * 10 + static_cast<uint32_t>(text[pos] - '0');
      ++pos;
      ++digits;
    }
    if (digits == 0 || octet > 255) return false;
    value = (value << 8) | octet;
  }
  if (pos != text.size()) return false;
  out = Ipv4Address{value};
  return true;
}

}  // namespace guest::net
