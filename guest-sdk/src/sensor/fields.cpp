// Sensor line fields: tokens and strict decimal integers.
#include <guest/sensor/fields.hpp>

namespace guest::sensor {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool Fields::next(StrView& field) {
  if (position_ > line_.size()) return false;
  size_t end = line_.find(' ', position_);
  if (end == StrView::npos) end = line_.size();
  field = line_.substr(position_, end - position_);
  position_ = end + 1;  // one past the end once the last field is taken
  return true;
}

bool split_key_value(StrView field, StrView& key, StrView& value) {
  const size_t equals = field.find('=');
  if (equals == StrView::npos) return false;
  key = field.substr(0, equals);
  value = field.substr(equals + 1);
  return true;
}

bool parse_u64(StrView text, uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t value = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!is_digit(text[i])) return false;
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (__builtin_mul_overflow(value, 10u, &value) || __builtin_add_overflow(value, digit, &value)) return false;
  }
  out = value;
  return true;
}

bool parse_i64(StrView text, int64_t& out) {
  const bool negative = !text.empty() && text[0] == '-';
  uint64_t magnitude = 0;
  if (!parse_u64(negative ? text.substr(1) : text, magnitude)) return false;
  // The magnitude of INT64_MIN is one more than INT64_MAX.
  const uint64_t limit = negative ? (uint64_t{1} << 63) : (uint64_t{1} << 63) - 1;
  if (magnitude > limit) return false;
  out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

bool valid_name(StrView text) {
  if (text.empty() || text.size() > kMaxNameLength || text[0] < 'a' || text[0] > 'z') return false;
  for (size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '-')) return false;
  }
  return true;
}

bool valid_unit(StrView text) {
  if (text.empty() || text.size() > kMaxUnitLength) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] <= ' ' || text[i] > '~') return false;
  }
  return true;
}

}  // namespace guest::sensor
