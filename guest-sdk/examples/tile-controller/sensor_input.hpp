// Sensor input: the one sensor stream the controller follows, a virtio-console port
// "sensor.<name>" (guest/sensor.hpp). It picks the port, asks for a rate if told to, and turns the
// stream's lines into inputs: the samples of channel 0 (a thermal sensor's temperature in milli-°C).
// Everything else is handled here: metadata, replies, and malformed lines, which the SDK's stream
// skips and counts (the first few are named on the console); only a stream the SDK declares
// beyond repair ends the controller.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/sensor.hpp>
#include <guest/str_view.hpp>
#include <guest/virtio_console.hpp>

namespace tile_controller {

// One input: a sample of channel 0.
struct Input {
  uint64_t timestamp_ns = 0;
  int64_t milli = 0;
};

class SensorInput {
 public:
  enum class Event : uint8_t {
    idle,          // no complete line is waiting
    input,         // `out` holds the next input
    ended,         // "#end": a replayed trace is over, no input follows
    failed,        // the stream cannot be interpreted (print_failure() says why)
    rate_refused,  // the tile refused the rate= request (already printed)
  };

  // Opens sensor.<wanted>, or the first sensor port when `wanted` is empty; rate_mhz (0: none) is
  // requested for channel 0 once the sensor described itself. Prints why not and returns false.
  bool open(guest::virtio::ConsoleDevice& console, guest::StrView wanted, uint64_t rate_mhz);

  // Handles up to `max_lines` waiting lines and stops at the first input or end.
  Event next(Input& out, size_t max_lines);
  [[nodiscard]] bool readable() { return port_.readable(); }

  [[nodiscard]] bool described() const { return described_; }
  [[nodiscard]] guest::StrView name() const { return port_.name(); }
  [[nodiscard]] const guest::sensor::StreamCounters& counters() const { return port_.stream().counters(); }
  void print_failure() const;

 private:
  void on_description();
  bool on_reply(const guest::sensor::Line& line);  // false: the rate was refused

  guest::sensor::Port port_;
  uint64_t rate_mhz_ = 0;
  bool awaiting_rate_ = false;  // the rate= request is sent and its reply has not come
  bool described_ = false;
  uint32_t malformed_printed_ = 0;
};

}  // namespace tile_controller
