// String I/O: writes 64 KiB of a fixed pattern with rep outsb strings longer than a page, then
// reports the FNV-1a (64-bit) hash of exactly the bytes written.
//
// The pattern is 1024 lines of 64 bytes: "string-io NNNN " (the line number), printable ASCII filling
// to column 63, then '\n'. It is written 16 KiB per instruction (four pages).
#include <guest/checksum.hpp>
#include <guest/kernel.hpp>

using namespace guest;

namespace {

constexpr size_t total_bytes = 64 * 1024;
constexpr size_t line_width = 64;
constexpr size_t chunk_bytes = 16 * 1024;

// The whole pattern: 64 KiB is too large for a kernel stack.
char pattern[total_bytes];

void build_pattern() {
  for (size_t line = 0; line < total_bytes / line_width; ++line) {
    char* p = pattern + line * line_width;
    const char prefix[] = "string-io ";
    size_t col = 0;
    for (; prefix[col] != '\0'; ++col) p[col] = prefix[col];
    for (size_t divisor = 1000; divisor != 0; divisor /= 10) p[col++] = static_cast<char>('0' + line / divisor % 10);
    p[col++] = ' ';
    for (; col < line_width - 1; ++col) p[col] = static_cast<char>('!' + (line * 7 + col) % 94);
    p[line_width - 1] = '\n';
  }
}

}  // namespace

int kernel_main() {
  build_pattern();
  for (size_t offset = 0; offset < total_bytes; offset += chunk_bytes) console::write(pattern + offset, chunk_bytes);
  const uint64_t hash = checksum::fnv1a64(pattern, total_bytes);
  print("string-io: {} bytes fnv1a {:016x}\n", total_bytes, hash);
  return 0;
}
