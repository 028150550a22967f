// Checksums: CRC-32 (IEEE 802.3, as zlib and `crc32`) and FNV-1a, for verifying data end to end.
#include <guest/checksum.hpp>

namespace guest::checksum {
namespace {

constexpr uint32_t crc_polynomial = 0xedb88320;

struct CrcTable {
  uint32_t entries[256];
};

constexpr CrcTable make_crc_table() {
  CrcTable table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1) != 0 ? (c >> 1) ^ crc_polynomial : c >> 1;
    table.entries[i] = c;
  }
  return table;
}

constexpr CrcTable crc_table = make_crc_table();

}  // namespace

uint32_t crc32(const void* data, size_t size, uint32_t crc) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = crc_table.entries[(crc ^ bytes[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t fnv1a32(const void* data, size_t size, uint32_t hash) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 0x01000193u;
  return hash;
}

uint64_t fnv1a64(const void* data, size_t size, uint64_t hash) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 0x00000100000001b3ull;
  return hash;
}

}  // namespace guest::checksum
