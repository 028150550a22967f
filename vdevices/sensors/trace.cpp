// Trace: parsing dispatch, file loading, writing, and the digest that ties a saved replay position to
// its trace.
#include "sensors/trace.hpp"

#include <fmt/format.h>

#include "sensors/decimal.hpp"
#include "sensors/file_reader.hpp"
#include "sensors/trace_text.hpp"

namespace tilehv::vdevices::sensors {
namespace {

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

void fnv(std::uint64_t& h, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    h ^= (v >> (8 * i)) & 0xff;
    h *= kFnvPrime;
  }
}

void fnv(std::uint64_t& h, std::string_view s) {
  fnv(h, s.size(), 4);
  for (const char c : s) fnv(h, static_cast<unsigned char>(c), 1);
}

}  // namespace

tl::expected<Trace, Error> parse_trace(std::string_view text, TraceFormat format, std::string_view file,
                                       const TraceLimits& limits) {
  return format == TraceFormat::csv ? trace_text::parse_csv(text, file, limits)
                                    : trace_text::parse_jsonl(text, file, limits);
}

tl::expected<Trace, Error> load_trace(const std::filesystem::path& path, const TraceLimits& limits) {
  const std::string extension = path.extension().string();
  TraceFormat format = TraceFormat::csv;
  if (extension == ".jsonl") {
    format = TraceFormat::jsonl;
  } else if (extension != ".csv") {
    return tl::unexpected(Error{ErrorKind::invalid_argument,
                                fmt::format("{}: a trace file ends in .csv or .jsonl", path.string())});
  }
  auto text = read_small_file(path, limits.max_file_bytes);
  if (!text) return tl::unexpected(text.error());
  return parse_trace(*text, format, path.string(), limits);
}

std::string format_trace(const Trace& trace, TraceFormat format) {
  const Sensor& s = trace.sensor;
  const bool poe = s.kind() == SensorKind::poe;
  std::string out;
  if (format == TraceFormat::csv) {
    out += fmt::format("{},{},{},{}", kTraceFormatName, kTraceVersion, s.name(), kind_name(s.kind()));
    if (poe) out += fmt::format(",ports={}", s.channels().size());
    out += "\ntimestamp_ns,channel,value\n";
    for (const TraceRecord& r : trace.records) {
      out += fmt::format("{},{},{}\n", r.timestamp_ns, s.channel(r.channel).name, format_milli(r.value_milli));
    }
  } else {
    out += fmt::format(R"({{"format":"{}","version":{},"name":"{}","kind":"{}")", kTraceFormatName, kTraceVersion,
                       s.name(), kind_name(s.kind()));
    if (poe) out += fmt::format(R"(,"ports":{})", s.channels().size());
    out += "}\n";
    for (const TraceRecord& r : trace.records) {
      out += fmt::format(R"({{"timestamp_ns":{},"channel":"{}","value":{}}})", r.timestamp_ns,
                         s.channel(r.channel).name, format_milli(r.value_milli));
      out += '\n';
    }
  }
  return out;
}

std::uint64_t trace_digest(const Trace& trace) noexcept {
  std::uint64_t h = kFnvOffset;
  fnv(h, trace.sensor.name());
  fnv(h, static_cast<std::uint64_t>(trace.sensor.kind()), 1);
  fnv(h, trace.sensor.channels().size(), 4);
  fnv(h, trace.records.size(), 8);
  for (const TraceRecord& r : trace.records) {
    fnv(h, r.timestamp_ns, 8);
    fnv(h, r.channel, 4);
    fnv(h, static_cast<std::uint64_t>(r.value_milli), 8);
  }
  return h;
}

}  // namespace tilehv::vdevices::sensors
