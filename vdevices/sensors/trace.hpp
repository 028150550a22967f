// Trace: a recorded sensor stream to replay, read from a CSV or JSON-lines file (formats in
// docs/sensors.md). The readers are strict and hostile-safe: bounded line length, record count and
// file size; every error names file:line:column and what was expected.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "sensors/error.hpp"
#include "sensors/sensor_model.hpp"

namespace tilehv::vdevices::sensors {

inline constexpr std::string_view kTraceFormatName = "tilehv-sensor-trace";
inline constexpr std::uint32_t kTraceVersion = 1;

enum class TraceFormat { csv, jsonl };

struct TraceRecord {
  std::uint64_t timestamp_ns = 0;
  std::uint32_t channel = 0;
  std::int64_t value_milli = 0;
  friend bool operator==(const TraceRecord&, const TraceRecord&) = default;
};

// The bounds keep a hostile or corrupt file from costing unbounded memory or time.
struct TraceLimits {
  std::size_t max_line_bytes = 1024;
  std::size_t max_records = 1'000'000;
  std::size_t max_file_bytes = 64 * 1024 * 1024;
};

struct Trace {
  Sensor sensor;                     // from the header: name, kind (and PoE ports)
  std::vector<TraceRecord> records;  // timestamps non-decreasing, one record per channel and timestamp
};

// Parses a whole trace held in memory; `file` only labels the errors.
[[nodiscard]] tl::expected<Trace, Error> parse_trace(std::string_view text, TraceFormat format, std::string_view file,
                                                     const TraceLimits& limits = {});

// Reads a file: ".csv" is CSV, ".jsonl" JSON lines; anything else is refused.
[[nodiscard]] tl::expected<Trace, Error> load_trace(const std::filesystem::path& path, const TraceLimits& limits = {});

// Writes a trace in either format; parse_trace of the result gives the same trace back.
[[nodiscard]] std::string format_trace(const Trace& trace, TraceFormat format);

// FNV-1a over the sensor identity and every record: a saved replay position is only valid for the
// trace it was saved from.
[[nodiscard]] std::uint64_t trace_digest(const Trace& trace) noexcept;

}  // namespace tilehv::vdevices::sensors
