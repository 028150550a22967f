// JsonLine: a strict reader for the one JSON shape trace files use, a flat object per line whose
// values are strings or numbers. Anything else (nesting, true/false/null, escapes, exponents,
// duplicate keys) is refused with the column where it starts, which a general JSON library would
// accept and leave to the caller to refuse.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace tilehv::vdevices::sensors {

struct JsonMember {
  std::string_view key;
  std::string_view value;  // a string's contents without quotes, or a number's text
  bool is_string = false;
  std::size_t key_column = 0;  // 1-based
  std::size_t value_column = 0;
};

struct JsonSyntaxError {
  std::size_t column = 0;  // 1-based
  std::string message;     // what was expected there
};

// Parses `line` as one flat object. Numbers are returned as their text: "-"? digits ("." digits)?.
[[nodiscard]] tl::expected<std::vector<JsonMember>, JsonSyntaxError> parse_json_line(std::string_view line);

}  // namespace tilehv::vdevices::sensors
