// Sensor line fields: the tokens of a wire-format line and their strict decimal integers. Fields are
// separated by one space and numbers are plain decimal (docs/sensors.md); anything else, a sign on an
// unsigned field, or a value that does not fit, is refused rather than guessed at.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/str_view.hpp>

namespace guest::sensor {

// Sensor and channel names are at most 32 characters, units at most 15 (wire format v1 uses 6).
inline constexpr size_t kMaxNameLength = 32;
inline constexpr size_t kMaxUnitLength = 15;

// Walks the space-separated fields of a line.
class Fields {
 public:
  explicit Fields(StrView line) : line_(line) {}
  // The next field; false at the end of the line. Empty fields (two spaces) come back empty, so a
  // caller that requires a value refuses them.
  bool next(StrView& field);
  [[nodiscard]] bool at_end() const { return position_ > line_.size(); }

 private:
  StrView line_;
  size_t position_ = 0;
};

// "key=value" split at the first '='; false without one.
bool split_key_value(StrView field, StrView& key, StrView& value);

// Decimal digits only, at most 20 of them, within the type's range.
bool parse_u64(StrView text, uint64_t& out);
// An optional '-' then decimal digits, within int64_t.
bool parse_i64(StrView text, int64_t& out);

// Sensor and channel names: [a-z][a-z0-9_-]{0,31}, as the tile allows them.
bool valid_name(StrView text);
// Units: 1 to 15 printable characters without spaces (degC, m/s^2, mL/min, %RH).
bool valid_unit(StrView text);

}  // namespace guest::sensor
