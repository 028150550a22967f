// Trace text: what the CSV and JSON-lines readers share: splitting into bounded lines with their
// numbers, error messages that point at file:line:column, and the record checks (channel, range,
// time order, duplicates, count).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sensors/quote.hpp"
#include "sensors/trace.hpp"

namespace tilehv::vdevices::sensors::trace_text {

// Where an error points: the file's label, a 1-based line and a 1-based byte column.
struct Location {
  std::string_view file;
  std::size_t line = 0;
  std::size_t column = 0;
};

[[nodiscard]] Error error_at(const Location& where, std::string_view message);

class LineCursor {
 public:
  LineCursor(std::string_view text, std::string_view file, std::size_t max_line_bytes)
      : text_(text), file_(file), max_(max_line_bytes) {}

  // The next line without its "\n" or "\r\n"; nullopt at the end. A line over the bound is an error.
  [[nodiscard]] tl::expected<std::optional<std::string_view>, Error> next();
  [[nodiscard]] Location at(std::size_t column) const noexcept { return {file_, line_, column}; }

 private:
  std::string_view text_;
  std::string_view file_;
  std::size_t max_;
  std::size_t pos_ = 0;
  std::size_t line_ = 0;
};

// Builds the sensor a header declares; `ports` is only meaningful (and required) for PoE.
[[nodiscard]] tl::expected<Sensor, Error> header_sensor(std::string_view name, std::string_view kind,
                                                        std::optional<std::uint64_t> ports, const Location& name_at,
                                                        const Location& kind_at, const Location& ports_at);

// Validates records in file order and collects them.
class RecordChecker {
 public:
  RecordChecker(const Sensor& sensor, const TraceLimits& limits) : sensor_(sensor), limits_(limits) {}

  // Each *_at locates the field for the error message.
  [[nodiscard]] tl::expected<void, Error> add(std::uint64_t timestamp_ns, std::string_view channel,
                                              std::int64_t value_milli, const Location& record_at,
                                              const Location& channel_at, const Location& value_at);
  [[nodiscard]] tl::expected<std::vector<TraceRecord>, Error> finish(const Location& end_at);

 private:
  const Sensor& sensor_;
  const TraceLimits& limits_;
  std::vector<TraceRecord> records_;
  std::uint32_t seen_at_timestamp_ = 0;  // channels already recorded at the latest timestamp (<= 16)
};

// The two readers; parse_trace() dispatches to them.
[[nodiscard]] tl::expected<Trace, Error> parse_csv(std::string_view text, std::string_view file,
                                                   const TraceLimits& limits);
[[nodiscard]] tl::expected<Trace, Error> parse_jsonl(std::string_view text, std::string_view file,
                                                     const TraceLimits& limits);

}  // namespace tilehv::vdevices::sensors::trace_text
