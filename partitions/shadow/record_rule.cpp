// RecordRule: a stream's comparison rule applied to a pair of records (see record_rule.hpp).
#include "shadow/record_rule.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "shadow/record_view.hpp"

namespace tilehv::shadow {
namespace {

constexpr std::size_t kShownBytes = 48;

// A value as the report shows it: printable text as is, shortened.
std::string shown(std::string_view value) {
  std::string out(value.substr(0, kShownBytes));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '.';
  }
  return value.size() > kShownBytes ? out + "..." : out;
}

std::optional<double> as_number(const std::string& text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

bool ignored(const policy::CompareSpec& spec, std::size_t offset) {
  return std::any_of(spec.ignore_bytes.begin(), spec.ignore_bytes.end(), [&](const policy::ByteRange& r) {
    return offset >= r.offset && offset - r.offset < r.length;
  });
}

}  // namespace

std::optional<std::string> RecordRule::difference(std::span<const std::uint8_t> live, std::span<const std::uint8_t> shadow) const {
  return spec_.rule == policy::CompareRule::kFields ? field_difference(live, shadow) : exact_difference(live, shadow);
}

std::optional<std::string> RecordRule::exact_difference(std::span<const std::uint8_t> live,
                                                        std::span<const std::uint8_t> shadow) const {
  if (live.size() != shadow.size()) return fmt::format("length: live {} bytes, shadow {} bytes", live.size(), shadow.size());
  for (std::size_t i = 0; i < live.size(); ++i) {
    if (live[i] != shadow[i] && !ignored(spec_, i)) {
      return fmt::format("byte {}: live {:#04x}, shadow {:#04x}", i, live[i], shadow[i]);
    }
  }
  return std::nullopt;
}

std::optional<std::string> RecordRule::field_difference(std::span<const std::uint8_t> live,
                                                        std::span<const std::uint8_t> shadow) const {
  const RecordView live_view = view_record(stream_, live);
  const RecordView shadow_view = view_record(stream_, shadow);
  if (live_view.key != shadow_view.key) return fmt::format("destination: live {}, shadow {}", live_view.key, shadow_view.key);
  auto live_fields = parse_fields(live_view.body);
  auto shadow_fields = parse_fields(shadow_view.body);
  if (!live_fields || !shadow_fields) {
    // Not key=value text on one side: judged byte for byte.
    return exact_difference(live_view.body, shadow_view.body);
  }
  const auto is_ignored = [&](const std::string& key) {
    return std::find(spec_.ignore_fields.begin(), spec_.ignore_fields.end(), key) != spec_.ignore_fields.end();
  };
  for (const auto& [key, live_value] : *live_fields) {
    if (is_ignored(key)) continue;
    const auto other = shadow_fields->find(key);
    if (other == shadow_fields->end()) return fmt::format("field {}: live {}, shadow has none", key, shown(live_value));
    if (live_value == other->second) continue;
    const std::string& name = key;  // a structured binding cannot be captured before C++20's P1091 in clang
    const auto tolerance = std::find_if(spec_.tolerances.begin(), spec_.tolerances.end(),
                                        [&name](const policy::FieldTolerance& t) { return t.field == name; });
    const auto a = as_number(live_value);
    const auto b = as_number(other->second);
    if (tolerance != spec_.tolerances.end() && a && b) {
      const double delta = std::fabs(*a - *b);
      const bool within_abs = tolerance->abs && delta <= *tolerance->abs;
      const bool within_rel = tolerance->rel && delta <= *tolerance->rel * std::fabs(*a);
      if (within_abs || within_rel) continue;
      return fmt::format("field {}: live {}, shadow {}, beyond tolerance{}{}", key, shown(live_value), shown(other->second),
                         tolerance->abs ? fmt::format(" abs {:g}", *tolerance->abs) : "",
                         tolerance->rel ? fmt::format(" rel {:g}", *tolerance->rel) : "");
    }
    return fmt::format("field {}: live {}, shadow {}", key, shown(live_value), shown(other->second));
  }
  for (const auto& [key, value] : *shadow_fields) {
    if (!is_ignored(key) && live_fields->find(key) == live_fields->end()) {
      return fmt::format("field {}: live has none, shadow {}", key, shown(value));
    }
  }
  return std::nullopt;
}

}  // namespace tilehv::shadow
