// Internet checksum (RFC 1071), summed 64 bits at a time.
//
// The sum is taken over little-endian words with end-around carry and byte-swapped at the end: RFC
// 1071 section 2 (B) shows the ones' complement sum is byte-order independent up to that swap, and
// 2^16, 2^32 and 2^64 are all 1 modulo 0xffff, so wider words give the same sum. Wide words matter
// where guest instructions are emulated one by one: a byte-pair loop costs about eight times more.
#include <guest/net/internet_checksum.hpp>

namespace guest::net {
namespace {

uint64_t add_with_carry(uint64_t sum, uint64_t value) {
  sum += value;
  return sum + (sum < value ? 1 : 0);
}

}  // namespace

uint64_t checksum_add(const uint8_t* data, size_t size, uint64_t sum) {
  size_t i = 0;
  // 32 bytes per iteration, one add-with-carry chain; the final adc folds the last carry back in.
  for (; i + 32 <= size; i += 32) {
    asm("addq 0(%[p]), %[sum]\n\t"
        "adcq 8(%[p]), %[sum]\n\t"
        "adcq 16(%[p]), %[sum]\n\t"
        "adcq 24(%[p]), %[sum]\n\t"
        "adcq $0, %[sum]"
        : [sum] "+r"(sum)
        : [p] "r"(data + i), "m"(*reinterpret_cast<const uint8_t(*)[32]>(data + i))
        : "cc");
  }
  for (; i + 8 <= size; i += 8) {
    uint64_t word;
    __builtin_memcpy(&word, data + i, 8);
    sum = add_with_carry(sum, word);
  }
  if (i + 4 <= size) {
    uint32_t word;
    __builtin_memcpy(&word, data + i, 4);
    sum = add_with_carry(sum, word);
    i += 4;
  }
  if (i + 2 <= size) {
    uint16_t word;
    __builtin_memcpy(&word, data + i, 2);
    sum = add_with_carry(sum, word);
    i += 2;
  }
  // An odd last byte is the high byte of a big-endian word padded with zero: the low byte here.
  if (i < size) sum = add_with_carry(sum, data[i]);
  return sum;
}

uint16_t checksum_finish(uint64_t sum) {
  uint64_t folded = (sum & 0xffffffff) + (sum >> 32);
  folded = (folded & 0xffffffff) + (folded >> 32);
  folded = (folded & 0xffff) + (folded >> 16);
  folded = (folded & 0xffff) + (folded >> 16);
  const auto little = static_cast<uint16_t>(~folded & 0xffff);
  return static_cast<uint16_t>((little >> 8) | (little << 8));
}

}  // namespace guest::net
