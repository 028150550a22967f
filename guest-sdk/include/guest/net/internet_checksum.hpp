// Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of the data taken as
// big-endian 16-bit words, used by IPv4, ICMP and UDP.
#pragma once

#include <cstddef>
#include <cstdint>

namespace guest::net {

// Adds data to a running sum (an opaque accumulator: start from 0). Every piece but the last must
// have an even size, as the words of the checksummed message do not straddle pieces.
uint64_t checksum_add(const uint8_t* data, size_t size, uint64_t sum = 0);
// Folds the sum into 16 bits and complements it: the value for the checksum field. A message whose
// checksum field is correct sums to 0xffff, so checksum_finish() over it is 0.
uint16_t checksum_finish(uint64_t sum);

}  // namespace guest::net
