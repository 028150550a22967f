// Checksums: CRC-32 (IEEE 802.3, as zlib and `crc32`) and FNV-1a, for verifying data end to end.
#pragma once

#include <cstddef>
#include <cstdint>

namespace guest::checksum {

// CRC-32 with the reflected polynomial 0xedb88320, initial value and final xor 0xffffffff. Pass the
// previous result as crc to continue over several pieces.
uint32_t crc32(const void* data, size_t size, uint32_t crc = 0);

inline constexpr uint32_t fnv1a32_offset = 0x811c9dc5;
inline constexpr uint64_t fnv1a64_offset = 0xcbf29ce484222325;
// FNV-1a; pass the previous result as hash to continue over several pieces.
uint32_t fnv1a32(const void* data, size_t size, uint32_t hash = fnv1a32_offset);
uint64_t fnv1a64(const void* data, size_t size, uint64_t hash = fnv1a64_offset);

}  // namespace guest::checksum
