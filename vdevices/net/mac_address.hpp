// MacAddress: a 48-bit Ethernet address, parsed from and printed as aa:bb:cc:dd:ee:ff.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace tilehv::vdevices {

struct MacAddress {
  std::array<std::uint8_t, 6> bytes{};

  [[nodiscard]] static std::optional<MacAddress> parse(std::string_view text) {
    if (text.size() != 17) return std::nullopt;
    MacAddress mac;
    for (std::size_t i = 0; i < 6; ++i) {
      if (i > 0 && text[i * 3 - 1] != ':') return std::nullopt;
      unsigned value = 0;
      for (std::size_t k = 0; k < 2; ++k) {
        const char c = text[i * 3 + k];
        const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (digit < 0) return std::nullopt;
        value = value * 16 + static_cast<unsigned>(digit);
      }
      mac.bytes[i] = static_cast<std::uint8_t>(value);
    }
    return mac;
  }
  // Group (multicast or broadcast) addresses have the low bit of the first byte set.
  [[nodiscard]] bool is_group() const noexcept { return (bytes[0] & 1) != 0; }
  [[nodiscard]] bool is_broadcast() const noexcept {
    for (std::uint8_t b : bytes) {
      if (b != 0xff) return false;
    }
    return true;
  }
  [[nodiscard]] std::uint64_t key() const noexcept {
    std::uint64_t k = 0;
    for (std::uint8_t b : bytes) k = (k << 8) | b;
    return k;
  }
  [[nodiscard]] std::string text() const {
    return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5]);
  }
  friend bool operator==(const MacAddress&, const MacAddress&) = default;
};

}  // namespace tilehv::vdevices
