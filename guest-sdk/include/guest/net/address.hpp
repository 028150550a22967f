// Addresses: Ethernet MAC and IPv4 addresses, and parsing dotted-quad text.
#pragma once

#include <cstdint>

#include <guest/str_view.hpp>

namespace guest::net {

struct MacAddress {
  uint8_t bytes[6];

  static constexpr MacAddress broadcast() { return MacAddress{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  // The group bit (broadcast included): such an address never names one station.
  [[nodiscard]] constexpr bool is_group() const { return (bytes[0] & 1) != 0; }
  [[nodiscard]] constexpr bool is_zero() const {
    return (bytes[0] | bytes[1] | bytes[2] | bytes[3] | bytes[4] | bytes[5]) == 0;
  }
  friend constexpr bool operator==(const MacAddress& a, const MacAddress& b) {
    for (int i = 0; i < 6; ++i)
      if (a.bytes[i] != b.bytes[i]) return false;
    return true;
  }
};

// An IPv4 address in host order: 10.0.0.1 is 0x0a000001.
struct Ipv4Address {
  uint32_t value;

  static constexpr Ipv4Address broadcast() { return Ipv4Address{0xffffffff}; }
  [[nodiscard]] constexpr uint8_t octet(int i) const { return static_cast<uint8_t>(value >> (24 - 8 * i)); }
  [[nodiscard]] constexpr bool is_zero() const { return value == 0; }
  [[nodiscard]] constexpr bool is_multicast() const { return (value >> 28) == 0xe; }
  // Addresses no unicast sender can have: 0.0.0.0, multicast, reserved class E and broadcast.
  [[nodiscard]] constexpr bool is_unicast() const { return value != 0 && (value >> 28) < 0xe; }
  friend constexpr bool operator==(Ipv4Address a, Ipv4Address b) { return a.value == b.value; }
};

// "a.b.c.d" with each part a decimal 0..255 of at most three digits; false for anything else.
bool parse_ipv4_address(StrView text, Ipv4Address& out);

}  // namespace guest::net
