// Sensor log: what the sensor logger does with one sensor port. It opens the port, sends the rate
// requests for its sensor once the sensor described itself, collects each channel's first N samples,
// digests every sample line it consumes, and prints the report.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/sensor.hpp>
#include <guest/virtio_console.hpp>

#include "channel_stats.hpp"
#include "rate_requests.hpp"

namespace sensor_logger {

class SensorLog {
 public:
  // Opens the console port `id` (a sensor port); false if it would not open.
  bool open(guest::virtio::ConsoleDevice& console, uint32_t id, uint64_t samples_wanted,
            const RateRequests& requests);

  // Handles up to `max_lines` lines that are waiting; returns how many it handled. Does nothing once
  // finished().
  size_t drain(size_t max_lines);
  [[nodiscard]] bool readable() { return !finished() && port_.readable(); }

  // Every channel has its samples and every rate request its reply, the stream ended ("#end"), or
  // it cannot be interpreted (failed()).
  [[nodiscard]] bool finished() const { return collected_ || ended_ || failed(); }
  [[nodiscard]] bool failed() const { return port_.stream().fatal() != guest::sensor::Fatal::none; }
  [[nodiscard]] bool described() const { return announced_; }
  [[nodiscard]] guest::StrView name() const { return port_.name(); }
  [[nodiscard]] uint32_t channel_count() const { return port_.stream().info().channel_count; }
  [[nodiscard]] uint64_t samples_collected() const;

  // "sensor-logger: <sensor>: stream malformed beyond repair: <why> (line "...")".
  void print_failure() const;
  // One statistics line per channel, the stream's counters and the digest line.
  void print_report() const;

 private:
  void handle(const guest::sensor::Line& line);
  void on_description();
  void on_sample(const guest::sensor::Line& line);
  void on_reply(const guest::sensor::Line& line);
  void update_collected();

  guest::sensor::Port port_;
  uint64_t wanted_ = 0;
  const RateRequests* requests_ = nullptr;
  size_t sent_[kMaxRateRequests] = {};  // indices into requests_, in the order sent
  size_t sent_count_ = 0;
  size_t answered_ = 0;
  ChannelStats stats_[guest::sensor::kMaxChannels];
  // The sensor's announced drops when each channel completed: the stream does not say which channel
  // a dropped sample belonged to, so this is what could have touched the channel's window.
  uint64_t dropped_[guest::sensor::kMaxChannels] = {};
  uint64_t digest_ = 0;
  bool announced_ = false;
  bool collected_ = false;
  bool ended_ = false;
  uint32_t malformed_printed_ = 0;
  char failed_line_[81] = {};  // up to 80 characters
};

}  // namespace sensor_logger
