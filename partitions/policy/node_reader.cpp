// Node reader: typed reads of a policy's nodes, each reporting what it found against what it expected.
#include "policy/node_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "policy/source_text.hpp"
#include "policy/values.hpp"
#include "sensors/sensor_model.hpp"

namespace tilehv::policy::detail {
namespace {

bool is_decimal_integer(std::string_view text) {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_float(std::string_view text) {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  if (text == ".inf" || text == ".Inf" || text == ".INF" || text == ".nan" || text == ".NaN" || text == ".NAN") {
    return true;
  }
  std::size_t i = 0, digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
    const std::size_t exponent_start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (i == exponent_start) return false;
  }
  return i == text.size();
}

std::string join_path(const std::string& parent, std::string_view name) {
  return parent.empty() ? std::string(name) : fmt::format("{}.{}", parent, name);
}

// Field names compared the way people mistype them: case, '_' and '-' do not count.
std::string normalized(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '_' || c == '-') continue;
    out += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string_view> closest(std::string_view name, std::initializer_list<std::string_view> known) {
  // Names longer than any field are not worth comparing (and would cost time on hostile input).
  if (name.size() > 64) return std::nullopt;
  std::optional<std::string_view> best;
  std::size_t best_distance = 3;  // at most two edits away
  for (std::string_view candidate : known) {
    const std::size_t distance = edit_distance(normalized(name), normalized(candidate));
    if (distance < best_distance && distance * 2 < candidate.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string list_names(std::initializer_list<std::string_view> names) {
  std::string out;
  for (std::string_view name : names) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

}  // namespace

void Reader::error(const YAML::Mark& mark, std::string path, std::string found, std::string expected) {
  malformed_.insert(path);
  diagnostics_.push_back(Diagnostic{file_, std::max(mark.line, 0) + 1, std::max(mark.column, 0) + 1, std::move(path),
                                    std::move(found), std::move(expected), "schema"});
}

void Reader::error(const Field& field, std::string expected) {
  error(mark_of(field), field.path, describe(field.value), std::move(expected));
}

void Reader::remember(const Field& field) {
  positions_[field.path] = located(field);
}

YAML::Mark mark_of(const Field& field) {
  // yaml-cpp marks an absent value at the next token, which may be lines away.
  return field.value.IsNull() ? field.key_mark : field.value.Mark();
}

Located located(const Field& field) {
  const YAML::Mark mark = mark_of(field);
  return Located{field.path, std::max(mark.line, 0) + 1, std::max(mark.column, 0) + 1};
}

ScalarType scalar_type(const YAML::Node& node) {
  if (node.IsNull()) return ScalarType::kNull;
  if (!node.IsScalar() || node.Tag() == "!") return ScalarType::kString;
  const std::string& text = node.Scalar();
  if (text == "true" || text == "True" || text == "TRUE" || text == "false" || text == "False" || text == "FALSE") {
    return ScalarType::kBool;
  }
  if (is_decimal_integer(text)) return ScalarType::kInteger;
  if (is_float(text)) return ScalarType::kFloat;
  return ScalarType::kString;
}

std::string describe(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "null";
  if (scalar_type(node) == ScalarType::kString) return quote(node.Scalar());
  const std::string& text = node.Scalar();
  return text.size() <= 40 ? text : text.substr(0, 40) + "...";
}

Fields::Fields(Reader& reader, const Field& mapping, std::string_view what,
               std::initializer_list<std::string_view> known)
    : reader_(reader), mapping_(mapping) {
  if (!mapping.value.IsMap()) {
    reader.error(mapping, fmt::format("{} (a mapping)", what));
    return;
  }
  is_mapping_ = true;
  reader.remember(mapping);
  for (auto it = mapping.value.begin(); it != mapping.value.end(); ++it) {
    // yaml-cpp hands out each pair through a temporary proxy: keep the node handles, not references.
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      reader.error(key.Mark(), mapping.path, fmt::format("a key that is {}", describe(key)), "field names");
      continue;
    }
    const std::string& name = key.Scalar();
    Field field{it->second, key.Mark(), join_path(mapping.path, name)};
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      const auto suggestion = closest(name, known);
      reader.error(key.Mark(), field.path, "an unknown field",
                   suggestion ? fmt::format("a field of {}; did you mean \"{}\"?", what, *suggestion)
                              : fmt::format("a field of {} ({})", what, list_names(known)));
      continue;
    }
    const bool seen = std::any_of(fields_.begin(), fields_.end(), [&](const Field& f) { return f.path == field.path; });
    if (seen) {
      reader.error(key.Mark(), field.path, fmt::format("a second {}", quote(name)), "each field once");
      continue;
    }
    reader.remember(field);
    fields_.push_back(std::move(field));
  }
}

std::optional<Field> Fields::get(std::string_view name) const {
  const std::string path = join_path(mapping_.path, name);
  for (const Field& field : fields_) {
    if (field.path == path) return field;
  }
  return std::nullopt;
}

std::optional<Field> Fields::require(std::string_view name, std::string_view expected) const {
  auto field = get(name);
  if (!field && is_mapping_) {
    reader_.error(mark_of(mapping_), join_path(mapping_.path, name), "nothing", fmt::format("{} (required)", expected));
  }
  return field;
}

std::optional<std::vector<Field>> read_list(Reader& reader, const Field& field, std::size_t max_items,
                                            std::string_view expected) {
  if (!field.value.IsSequence()) {
    reader.error(field, fmt::format("a list of {}", expected));
    return std::nullopt;
  }
  if (field.value.size() > max_items) {
    reader.error(mark_of(field), field.path, fmt::format("a list of {} items", field.value.size()),
                 fmt::format("at most {} items", max_items));
    return std::nullopt;
  }
  std::vector<Field> items;
  std::size_t index = 0;
  for (const YAML::Node& item : field.value) {
    Field entry{item, item.Mark(), fmt::format("{}[{}]", field.path, index++)};
    // An empty item has no place of its own: the list's stands in.
    if (item.IsNull()) entry.key_mark = mark_of(field);
    reader.remember(entry);
    items.push_back(std::move(entry));
  }
  return items;
}

std::optional<std::string> read_string(Reader& reader, const Field& field, std::string_view expected,
                                       std::size_t max_bytes) {
  if (scalar_type(field.value) != ScalarType::kString || !field.value.IsScalar()) {
    reader.error(field, std::string(expected));
    return std::nullopt;
  }
  const std::string& text = field.value.Scalar();
  if (text.size() > max_bytes) {
    reader.error(mark_of(field), field.path, fmt::format("a string of {} bytes", text.size()),
                 fmt::format("{} of at most {} bytes", expected, max_bytes));
    return std::nullopt;
  }
  return text;
}

std::optional<std::string> read_name(Reader& reader, const Field& field) {
  constexpr std::string_view kExpected = "a name of 1 to 32 characters [a-z][a-z0-9_-]*";
  auto name = read_string(reader, field, kExpected);
  if (!name) return std::nullopt;
  if (!vdevices::sensors::valid_name(*name)) {
    reader.error(field, std::string(kExpected));
    return std::nullopt;
  }
  return name;
}

std::optional<std::string> read_choice(Reader& reader, const Field& field,
                                       std::initializer_list<std::string_view> choices) {
  std::string expected = "one of ";
  for (std::string_view choice : choices) {
    expected += fmt::format("{}\"{}\"", expected.size() > 7 ? ", " : "", choice);
  }
  auto text = read_string(reader, field, expected);
  if (!text) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *text) == choices.end()) {
    reader.error(field, expected);
    return std::nullopt;
  }
  return text;
}

std::optional<std::uint64_t> read_unsigned(Reader& reader, const Field& field, std::uint64_t min, std::uint64_t max) {
  const std::string expected = fmt::format("an integer from {} to {}", min, max);
  if (scalar_type(field.value) != ScalarType::kInteger) {
    reader.error(field, expected);
    return std::nullopt;
  }
  const std::string& text = field.value.Scalar();
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    reader.error(field, expected);
    return std::nullopt;
  }
  return value;
}

std::optional<double> read_number(Reader& reader, const Field& field, double min, double max) {
  const std::string expected = fmt::format("a number from {} to {}", min, max);
  const ScalarType type = scalar_type(field.value);
  if (type != ScalarType::kInteger && type != ScalarType::kFloat) {
    reader.error(field, expected);
    return std::nullopt;
  }
  std::string_view text = field.value.Scalar();
  if (text.starts_with('+')) text.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || value < min || value > max) {
    reader.error(field, expected);
    return std::nullopt;
  }
  return value;
}

std::optional<bool> read_bool(Reader& reader, const Field& field) {
  if (scalar_type(field.value) != ScalarType::kBool) {
    reader.error(field, "true or false");
    return std::nullopt;
  }
  return field.value.Scalar().front() == 't' || field.value.Scalar().front() == 'T';
}

std::optional<std::uint64_t> read_size(Reader& reader, const Field& field) {
  constexpr std::string_view kExpected = "a size such as 64M or 1G";
  auto text = read_string(reader, field, kExpected, 64);
  if (!text) return std::nullopt;
  auto bytes = parse_size(*text);
  if (!bytes) reader.error(field, std::string(kExpected));
  return bytes;
}

std::optional<CpuSet> read_cpu_set(Reader& reader, const Field& field) {
  const std::string expected = fmt::format("a CPU list such as \"0-3,6\" (CPUs 0 to {})", kMaxCpuId);
  auto text = read_string(reader, field, expected, 1024);
  if (!text) return std::nullopt;
  auto cpus = parse_cpu_set(*text);
  if (!cpus) reader.error(field, expected);
  return cpus;
}

}  // namespace tilehv::policy::detail
