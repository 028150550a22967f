// SensorFeed: one of the tile's sensors feeding a partition's console port: it pulls samples from
// the sensor's source up to the current virtual time, moves the stream's bytes into the port, and
// hands the guest's commands (rate requests) to the sensor.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "port/port_endpoint.hpp"
#include "sensors/sensor_model.hpp"
#include "sensors/sensor_port.hpp"

namespace tilehv::ioplane {

// Where a sensor's samples come from: a seeded synthetic model (the default), a recorded trace, or
// the host's own sensor through Linux IIO.
struct PlaneSensor {
  vdevices::sensors::SensorSpec spec;
  std::uint64_t seed = 1;
  std::uint64_t day_ns = 86'400'000'000'000;  // synthetic: length of the diurnal cycle
  std::filesystem::path trace;                // replay this trace instead
  bool iio = false;                           // read the host's IIO device instead
  std::filesystem::path iio_root = "/sys/bus/iio/devices";
  bool shared = false;  // shared-read: every partition given it gets its own feed of the same source
};

// Rate bounds in millihertz that a partition's policy narrows each of a sensor's channels to.
struct RateBoundsMhz {
  std::uint64_t min = 0;
  std::uint64_t max = 0;
};

// Who else sees a feed's traffic: the plane mirrors it to a shadow partition and its comparator.
struct FeedObserver {
  std::function<void(std::span<const std::uint8_t>)> delivered;  // stream bytes the port took, in order
  std::function<void(std::span<const std::uint8_t>)> commanded;  // the guest's bytes, as read from the port
};

class SensorFeed {
 public:
  // `rates` narrows every channel's rate bounds (a partition's policy); refused if a channel
  // cannot run within them.
  [[nodiscard]] static tl::expected<std::unique_ptr<SensorFeed>, std::string> create(
      const PlaneSensor& config, std::optional<RateBoundsMhz> rates = std::nullopt);

  [[nodiscard]] std::string port_name() const { return port_->port_name(); }
  // Samples up to `now_ns` of virtual time, then as many stream bytes as the port takes.
  [[nodiscard]] tl::expected<void, std::string> pump(vdevices::port::PortEndpoint& endpoint, std::uint64_t now_ns,
                                                     const FeedObserver* observer = nullptr);
  // The guest's bytes (commands) from the port, then the replies.
  [[nodiscard]] tl::expected<void, std::string> take_input(vdevices::port::PortEndpoint& endpoint, std::uint64_t now_ns,
                                                           const FeedObserver* observer = nullptr);
  [[nodiscard]] const vdevices::sensors::PortMetrics& metrics() const noexcept { return port_->metrics(); }
  // Guest bytes that did not come through the port: a promoted shadow's commands, sent when it
  // took the partition's place. Consumed with the port's own on the next take_input().
  void command(std::span<const std::uint8_t> bytes) { unread_.insert(unread_.end(), bytes.begin(), bytes.end()); }
  // The stream's header lines, and where the stream the port took stands: a reader joining later
  // gets the header, then the stream from the next line that starts.
  [[nodiscard]] std::string header() const { return port_->header(); }
  [[nodiscard]] std::uint64_t bytes_delivered() const noexcept { return bytes_delivered_; }
  [[nodiscard]] bool at_line_start() const noexcept { return at_line_start_; }

 private:
  explicit SensorFeed(std::unique_ptr<vdevices::sensors::SensorPort> port) : port_(std::move(port)) {}
  [[nodiscard]] tl::expected<void, std::string> flush(vdevices::port::PortEndpoint& endpoint, const FeedObserver* observer);

  std::unique_ptr<vdevices::sensors::SensorPort> port_;
  std::vector<std::uint8_t> unsent_;  // stream bytes read from the sensor that the port had no room for
  std::vector<std::uint8_t> unread_;  // guest bytes the sensor has not consumed yet
  std::vector<std::uint8_t> buffer_;
  std::uint64_t bytes_delivered_ = 0;
  bool at_line_start_ = true;
};

}  // namespace tilehv::ioplane
