// Command line: key=value lookup and integer parsing over the kernel command line.
#include <guest/cmdline.hpp>

#include <guest/boot_info.hpp>

namespace guest::cmdline {

Lookup find(StrView line, StrView key) {
  Lookup result{false, StrView()};
  size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    size_t end = pos;
    while (end < line.size() && line[end] != ' ') ++end;
    const StrView word = line.substr(pos, end - pos);
    const size_t equals = word.find('=');
    const StrView name = word.substr(0, equals);
    if (!word.empty() && name == key)
      result = Lookup{true, equals == StrView::npos ? StrView(word.data() + word.size(), 0) : word.substr(equals + 1)};
    pos = end;
  }
  return result;
}

Lookup find(StrView key) { return find(boot_info::cmdline(), key); }

ParsedInteger parse_u64(StrView text) {
  unsigned base = 10;
  if (text.starts_with("0x") || text.starts_with("0X")) {
    base = 16;
    text = text.substr(2);
  } else if (text.starts_with("0b")) {
    base = 2;
    text = text.substr(2);
  }
  if (text.empty()) return {false, 0};
  uint64_t value = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    unsigned digit;
    if (c >= '0' && c <= '9') digit = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') digit = static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') digit = static_cast<unsigned>(c - 'A' + 10);
    else return {false, 0};
    if (digit >= base) return {false, 0};
    if (value > (UINT64_MAX - digit) / base) return {false, 0};
    value = value * base + digit;
  }
  return {true, value};
}

uint64_t get_u64(StrView key, uint64_t fallback) {
  const Lookup found = find(key);
  if (!found.found) return fallback;
  const ParsedInteger parsed = parse_u64(found.value);
  return parsed.ok ? parsed.value : fallback;
}

}  // namespace guest::cmdline
