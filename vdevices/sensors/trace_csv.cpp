// Trace CSV reader: a header line "tilehv-sensor-trace,1,<name>,<kind>[,ports=<n>]", the column line
// "timestamp_ns,channel,value", then one record per line. '#' starts a comment line after the header.
// No quoting, no spaces: every field is a name or a number, so there is nothing to quote.
#include <fmt/format.h>

#include "sensors/decimal.hpp"
#include "sensors/trace_text.hpp"

namespace tilehv::vdevices::sensors::trace_text {
namespace {

constexpr std::string_view kColumns = "timestamp_ns,channel,value";

struct Field {
  std::string_view text;
  std::size_t column;  // 1-based
};

std::vector<Field> split(std::string_view line) {
  std::vector<Field> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    fields.push_back(Field{line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start),
                           start + 1});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

// The next line that is not a comment; nullopt at the end of the text.
tl::expected<std::optional<std::string_view>, Error> next_content(LineCursor& cursor) {
  while (true) {
    auto line = cursor.next();
    if (!line || !*line || (*line)->empty() || (*line)->front() != '#') return line;
  }
}

tl::expected<Sensor, Error> parse_header(std::string_view line, const LineCursor& cursor) {
  const std::vector<Field> f = split(line);
  if (f[0].text != kTraceFormatName) {
    return tl::unexpected(error_at(cursor.at(1), fmt::format("expected the header \"{},{},<name>,<kind>\", found {}",
                                                             kTraceFormatName, kTraceVersion, quote(line))));
  }
  if (f.size() < 4 || f.size() > 5) {
    return tl::unexpected(error_at(cursor.at(line.size() + 1),
                                   fmt::format("expected 4 header fields (5 for poe), found {}", f.size())));
  }
  const auto version = parse_u64(f[1].text);
  if (!version || *version != kTraceVersion) {
    return tl::unexpected(error_at(cursor.at(f[1].column), fmt::format("expected trace version {}, found {}",
                                                                       kTraceVersion, quote(f[1].text))));
  }
  std::optional<std::uint64_t> ports;
  std::size_t ports_column = line.size() + 1;
  if (f.size() == 5) {
    ports_column = f[4].column;
    constexpr std::string_view kPorts = "ports=";
    if (!f[4].text.starts_with(kPorts) || !(ports = parse_u64(f[4].text.substr(kPorts.size())))) {
      return tl::unexpected(error_at(cursor.at(ports_column), fmt::format("expected ports=<n>, found {}", quote(f[4].text))));
    }
  }
  return header_sensor(f[2].text, f[3].text, ports, cursor.at(f[2].column), cursor.at(f[3].column),
                       cursor.at(ports_column));
}

}  // namespace

tl::expected<Trace, Error> parse_csv(std::string_view text, std::string_view file, const TraceLimits& limits) {
  LineCursor cursor(text, file, limits.max_line_bytes);
  auto first = cursor.next();
  if (!first) return tl::unexpected(first.error());
  if (!*first) return tl::unexpected(error_at(Location{file, 1, 1}, "expected the header line, found an empty file"));
  auto sensor = parse_header(**first, cursor);
  if (!sensor) return tl::unexpected(sensor.error());

  auto columns = next_content(cursor);
  if (!columns) return tl::unexpected(columns.error());
  if (!*columns || **columns != kColumns) {
    const Location where = *columns ? cursor.at(1) : Location{file, 2, 1};
    return tl::unexpected(error_at(where, fmt::format("expected the column line \"{}\", found {}", kColumns,
                                                      *columns ? quote(**columns) : "the end of the file")));
  }

  RecordChecker checker(*sensor, limits);
  while (true) {
    auto line = next_content(cursor);
    if (!line) return tl::unexpected(line.error());
    if (!*line) break;
    if ((*line)->empty()) {
      return tl::unexpected(error_at(cursor.at(1), fmt::format("expected a record \"{}\", found an empty line", kColumns)));
    }
    const std::vector<Field> f = split(**line);
    if (f.size() != 3) {
      const std::size_t column = f.size() > 3 ? f[3].column : (*line)->size() + 1;
      return tl::unexpected(error_at(cursor.at(column),
                                     fmt::format("expected a record \"{}\" (3 fields), found {} field{}", kColumns,
                                                 f.size(), f.size() == 1 ? "" : "s")));
    }
    const auto timestamp = parse_u64(f[0].text);
    if (!timestamp) {
      return tl::unexpected(error_at(cursor.at(f[0].column),
                                     fmt::format("expected a timestamp in ns (an unsigned integer), found {}",
                                                 quote(f[0].text))));
    }
    const auto value = parse_milli(f[2].text);
    if (!value) {
      return tl::unexpected(error_at(cursor.at(f[2].column),
                                     fmt::format("expected a decimal value with at most 3 fraction digits, found {}",
                                                 quote(f[2].text))));
    }
    auto added = checker.add(*timestamp, f[1].text, *value, cursor.at(1), cursor.at(f[1].column), cursor.at(f[2].column));
    if (!added) return tl::unexpected(added.error());
  }
  auto records = checker.finish(cursor.at(1));
  if (!records) return tl::unexpected(records.error());
  return Trace{std::move(*sensor), std::move(*records)};
}

}  // namespace tilehv::vdevices::sensors::trace_text
