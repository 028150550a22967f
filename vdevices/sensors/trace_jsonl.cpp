// Trace JSON-lines reader: a header object
//   {"format":"tilehv-sensor-trace","version":1,"name":"thermal0","kind":"thermal"}
// ("ports":N as well for kind poe), then one record object per line:
//   {"timestamp_ns":1000000000,"channel":"temperature","value":21.5}
#include <array>

#include <fmt/format.h>

#include "sensors/decimal.hpp"
#include "sensors/json_line.hpp"
#include "sensors/trace_text.hpp"

namespace tilehv::vdevices::sensors::trace_text {
namespace {

enum class Type { string, number };

struct KeySpec {
  std::string_view key;
  Type type;
  bool required;
};

constexpr std::array<KeySpec, 5> kHeaderKeys = {{{"format", Type::string, true},
                                                 {"version", Type::number, true},
                                                 {"name", Type::string, true},
                                                 {"kind", Type::string, true},
                                                 {"ports", Type::number, false}}};
constexpr std::array<KeySpec, 3> kRecordKeys = {{{"timestamp_ns", Type::number, true},
                                                 {"channel", Type::string, true},
                                                 {"value", Type::number, true}}};

// Parses the line and checks its keys against `specs`: each member lands in `found` at its spec's
// index; an absent optional key leaves its slot null.
template <std::size_t N>
tl::expected<std::array<const JsonMember*, N>, Error> members_of(std::string_view line, const LineCursor& cursor,
                                                                 const std::array<KeySpec, N>& specs,
                                                                 std::vector<JsonMember>& storage) {
  auto parsed = parse_json_line(line);
  if (!parsed) return tl::unexpected(error_at(cursor.at(parsed.error().column), parsed.error().message));
  storage = std::move(*parsed);
  std::array<const JsonMember*, N> found{};
  for (const JsonMember& m : storage) {
    std::size_t i = 0;
    while (i < N && specs[i].key != m.key) ++i;
    if (i == N) {
      std::string expected;
      for (const KeySpec& s : specs) expected += (expected.empty() ? "" : ", ") + std::string(s.key);
      return tl::unexpected(
          error_at(cursor.at(m.key_column), fmt::format("unknown key {}; expected {}", quote(m.key), expected)));
    }
    if ((specs[i].type == Type::string) != m.is_string) {
      return tl::unexpected(error_at(cursor.at(m.value_column),
                                     fmt::format("expected {} to be a {}", quote(m.key),
                                                 specs[i].type == Type::string ? "string" : "number")));
    }
    found[i] = &m;
  }
  for (std::size_t i = 0; i < N; ++i) {
    if (specs[i].required && found[i] == nullptr) {
      return tl::unexpected(error_at(cursor.at(line.size() + 1), fmt::format("missing key {}", quote(specs[i].key))));
    }
  }
  return found;
}

tl::expected<Sensor, Error> parse_header(std::string_view line, const LineCursor& cursor) {
  std::vector<JsonMember> storage;
  auto m = members_of(line, cursor, kHeaderKeys, storage);
  if (!m) return tl::unexpected(m.error());
  const JsonMember& format = *(*m)[0];
  const JsonMember& version = *(*m)[1];
  if (format.value != kTraceFormatName) {
    return tl::unexpected(error_at(cursor.at(format.value_column),
                                   fmt::format("expected format \"{}\", found {}", kTraceFormatName, quote(format.value))));
  }
  if (parse_u64(version.value) != std::optional<std::uint64_t>{kTraceVersion}) {
    return tl::unexpected(error_at(cursor.at(version.value_column),
                                   fmt::format("expected trace version {}, found {}", kTraceVersion, quote(version.value))));
  }
  std::optional<std::uint64_t> ports;
  std::size_t ports_column = line.size() + 1;
  if (const JsonMember* p = (*m)[4]) {
    ports_column = p->value_column;
    ports = parse_u64(p->value);
    if (!ports) {
      return tl::unexpected(error_at(cursor.at(ports_column), fmt::format("expected a port count, found {}", quote(p->value))));
    }
  }
  const JsonMember& name = *(*m)[2];
  const JsonMember& kind = *(*m)[3];
  return header_sensor(name.value, kind.value, ports, cursor.at(name.value_column), cursor.at(kind.value_column),
                       cursor.at(ports_column));
}

}  // namespace

tl::expected<Trace, Error> parse_jsonl(std::string_view text, std::string_view file, const TraceLimits& limits) {
  LineCursor cursor(text, file, limits.max_line_bytes);
  auto first = cursor.next();
  if (!first) return tl::unexpected(first.error());
  if (!*first) return tl::unexpected(error_at(Location{file, 1, 1}, "expected the header object, found an empty file"));
  auto sensor = parse_header(**first, cursor);
  if (!sensor) return tl::unexpected(sensor.error());

  RecordChecker checker(*sensor, limits);
  std::vector<JsonMember> storage;
  while (true) {
    auto line = cursor.next();
    if (!line) return tl::unexpected(line.error());
    if (!*line) break;
    auto m = members_of(**line, cursor, kRecordKeys, storage);
    if (!m) return tl::unexpected(m.error());
    const JsonMember& timestamp = *(*m)[0];
    const JsonMember& channel = *(*m)[1];
    const JsonMember& value = *(*m)[2];
    const auto ts = parse_u64(timestamp.value);
    if (!ts) {
      return tl::unexpected(error_at(cursor.at(timestamp.value_column),
                                     fmt::format("expected a timestamp in ns (an unsigned integer), found {}",
                                                 quote(timestamp.value))));
    }
    const auto milli = parse_milli(value.value);
    if (!milli) {
      return tl::unexpected(error_at(cursor.at(value.value_column),
                                     fmt::format("expected a decimal value with at most 3 fraction digits, found {}",
                                                 quote(value.value))));
    }
    auto added = checker.add(*ts, channel.value, *milli, cursor.at(1), cursor.at(channel.value_column),
                             cursor.at(value.value_column));
    if (!added) return tl::unexpected(added.error());
  }
  auto records = checker.finish(cursor.at(1));
  if (!records) return tl::unexpected(records.error());
  return Trace{std::move(*sensor), std::move(*records)};
}

}  // namespace tilehv::vdevices::sensors::trace_text
