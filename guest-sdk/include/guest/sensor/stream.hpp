// Sensor stream: the state of one sensor's byte stream on the guest side. It turns bytes, in any
// fragmentation, into lines (guest/sensor/wire.hpp) checked against what the stream said before: the
// sensor's description (header and #channel lines), the SEQ numbers and the announced drops. Bad
// lines are counted and skipped; only a stream that cannot be interpreted at all is fatal. No
// allocation and no transport: the driver on a console port (guest/sensor.hpp) feeds it.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/sensor/fields.hpp>
#include <guest/sensor/line_buffer.hpp>
#include <guest/sensor/wire.hpp>
#include <guest/str_view.hpp>

namespace guest::sensor {

// A PoE sensor has up to 16 ports, the most channels of any kind.
inline constexpr uint32_t kMaxChannels = 16;

struct ChannelInfo {
  char name[kMaxNameLength + 1] = {};
  char unit[kMaxUnitLength + 1] = {};
  int64_t min_milli = 0;
  int64_t max_milli = 0;
  uint64_t rate_mhz = 0;  // current: from the header, updated by accepted rate commands
  uint64_t min_rate_mhz = 0;
  uint64_t max_rate_mhz = 0;
};

struct SensorInfo {
  char name[kMaxNameLength + 1] = {};
  char kind[kMaxNameLength + 1] = {};
  char source[kMaxNameLength + 1] = {};
  uint32_t channel_count = 0;
  ChannelInfo channels[kMaxChannels];
};

struct StreamCounters {
  uint64_t lines = 0;
  uint64_t samples = 0;     // samples of described channels
  uint64_t malformed = 0;   // lines skipped as malformed
  uint64_t unframed = 0;    // samples skipped because no description was complete
  uint64_t unknown = 0;     // metadata lines of kinds this driver does not know
  uint64_t dropped = 0;     // samples the tile announced as dropped ("#dropped N")
  uint64_t seq_breaks = 0;  // samples whose SEQ was not the previous one + 1 + announced drops
  uint64_t faults = 0;      // "#fault" lines
};

// Why a stream cannot be interpreted; sticky once set.
enum class Fatal : uint8_t {
  none,
  unsupported_version,  // the header names a wire format other than v1
  too_many_channels,    // more than kMaxChannels
  wrong_sensor,         // the header names another sensor than the port
  channels_changed,     // a later description lists other channels than the first
  malformed_run,        // kMaxMalformedRun malformed lines in a row: this is not a sensor stream
};

class Stream {
 public:
  static constexpr uint32_t kMaxMalformedRun = 32;

  // The sensor the port is named after; a header naming another one is fatal. Empty: any name.
  void expect_name(StrView name);

  // Takes bytes up to the end of the first line completed among them and returns how many; `line`
  // then describes that line, or has kind none when the bytes ended inside a line.
  size_t consume(const uint8_t* data, size_t size, Line& line);
  // Forgets a partly received line (the port was reopened: its rest never comes).
  void reset_line() { buffer_.reset(); }

  // A complete description (header and every #channel line) has arrived.
  [[nodiscard]] bool described() const { return described_; }
  // The latest complete description; meaningful once described().
  [[nodiscard]] const SensorInfo& info() const { return info_; }
  [[nodiscard]] const StreamCounters& counters() const { return counters_; }
  [[nodiscard]] Fatal fatal() const { return fatal_; }

 private:
  void apply(Line& line);
  void apply_header(Line& line);
  void apply_channel(Line& line);
  void apply_sample(Line& line);
  void apply_rate(Line& line);
  void complete_description(Line& line);
  void fail(Fatal reason);

  LineBuffer buffer_;
  char expected_name_[kMaxNameLength + 1] = {};
  SensorInfo info_;      // the last complete description
  SensorInfo incoming_;  // the description being received
  bool described_ = false;
  bool ever_described_ = false;
  bool receiving_ = false;      // a header came and its #channel lines are arriving
  uint32_t next_channel_ = 0;   // the #channel index expected next
  bool have_seq_ = false;
  uint64_t next_seq_ = 0;
  uint32_t malformed_run_ = 0;
  StreamCounters counters_;
  Fatal fatal_ = Fatal::none;
};

[[nodiscard]] const char* fatal_name(Fatal fatal);

}  // namespace guest::sensor
