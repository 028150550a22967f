// Sensor wire format v1, one line at a time (docs/sensors.md): a line starting with a digit is a
// sample "SEQ TIMESTAMP_NS CHANNEL VALUE", one starting with '#' is metadata. parse_line() classifies a
// line and reads its fields; it keeps no state, so what a line means in its stream (which channels
// exist, whether a value is in range) is the stream's business (guest/sensor/stream.hpp).
#pragma once

#include <cstdint>

#include <guest/str_view.hpp>

namespace guest::sensor {

enum class LineKind : uint8_t {
  none,       // no complete line yet
  sample,     // a sample of a described channel
  header,     // "#tilehv-sensor v1 name=.. kind=.. source=.. channels=C"
  channel,    // "#channel I name=.. unit=.. scale=1000 min=.. max=.. rate=.. min_rate=.. max_rate=.."
  dropped,    // "#dropped N": N samples are missing before the next one
  rate_ok,    // "#ok rate I R from=T": a rate command was accepted
  error,      // "#error MESSAGE": a command was refused
  fault,      // "#fault MESSAGE": the tile's source failed; the samples come later
  end,        // "#end": a replayed trace is over
  unknown,    // metadata this driver does not know: skipped, so a newer tile's additions do no harm
  unframed,   // a well-formed sample before the stream described its channels: skipped
  malformed,  // counted and skipped; `problem` says why
};

enum class Problem : uint8_t {
  none,
  overlong,             // longer than LineBuffer::kCapacity
  empty,                // the stream never sends empty lines
  not_printable,        // a byte outside printable ASCII
  not_a_line,           // starts with neither a digit nor '#'
  bad_sample,           // not four decimal integers
  bad_header,           // fields missing or out of range
  bad_channel,          // fields missing or out of range, or a scale other than 1000
  bad_dropped,
  bad_rate_reply,
  channel_out_of_order, // a #channel line that is not the next one of the current header
  channel_out_of_range, // a sample or reply for a channel the header does not have
  value_out_of_range,   // a sample outside its channel's min..max
};

struct SampleLine {
  uint64_t seq = 0;
  uint64_t timestamp_ns = 0;
  uint32_t channel = 0;
  int64_t value_milli = 0;
};

struct HeaderLine {
  uint64_t version = 0;  // the rest is read only for version 1
  StrView name;
  StrView kind;
  StrView source;
  uint32_t channels = 0;
};

struct ChannelLine {
  uint32_t index = 0;
  StrView name;
  StrView unit;
  int64_t min_milli = 0;
  int64_t max_milli = 0;
  uint64_t rate_mhz = 0;
  uint64_t min_rate_mhz = 0;
  uint64_t max_rate_mhz = 0;
};

struct RateReplyLine {
  uint32_t channel = 0;
  uint64_t rate_mhz = 0;
  uint64_t from_ns = 0;
};

// One line of the stream. The views point into the stream's line buffer: valid until it takes the
// next bytes.
struct Line {
  LineKind kind = LineKind::none;
  Problem problem = Problem::none;
  StrView text;  // the line without its '\n'; empty when overlong
  SampleLine sample;
  HeaderLine header;
  ChannelLine channel;
  uint64_t dropped = 0;
  RateReplyLine rate;
  StrView message;               // #error and #fault
  bool header_complete = false;  // set by the stream: this line completed the sensor's description
};

// The wire format's scale: values are milli-units.
inline constexpr int64_t kScale = 1000;
// Channel bounds beyond this magnitude are refused. Wire format v1 ranges stay below 10^7 milli-units;
// the bound lets a consumer add up a million values of a channel in 64 bits.
inline constexpr int64_t kMaxMagnitude = 1'000'000'000'000;

// Classifies one complete line (without its '\n') and reads its fields.
Line parse_line(StrView text);

[[nodiscard]] const char* problem_name(Problem problem);

}  // namespace guest::sensor
