// Command line: key=value lookup and integer parsing over the kernel command line.
//
// The command line is a space-separated list of words; a word is "key=value" or a bare "key" (whose
// value is empty). When a key appears more than once, the last occurrence wins, as on Linux.
#pragma once

#include <cstdint>

#include <guest/str_view.hpp>

namespace guest::cmdline {

struct Lookup {
  bool found;
  StrView value;
};

// Looks key up in the given command line.
Lookup find(StrView line, StrView key);
// Looks key up in the boot command line.
Lookup find(StrView key);

struct ParsedInteger {
  bool ok;
  uint64_t value;
};
// Parses a decimal, 0x-hexadecimal or 0b-binary unsigned integer; rejects empty input, stray
// characters and overflow.
ParsedInteger parse_u64(StrView text);

// The value of key as an integer; fallback when the key is absent or its value does not parse.
uint64_t get_u64(StrView key, uint64_t fallback);

}  // namespace guest::cmdline
