// SensorPort: one sensor as the byte stream of a named guest port ("sensor.<name>"). It turns the
// source's samples into stream lines, answers the commands the guest writes, and applies
// backpressure both ways: output waits in a bounded queue whose overflow is counted and reported in
// the stream ("#dropped N"), never lost silently; guest input is not consumed while the reply queue
// is full. It knows nothing of virtio: the transport moves bytes with write() and read().
// One thread at a time: the I/O plane serialises calls. The stream calls are noexcept like all
// device code; only running out of memory could throw inside them, and that ends the process.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>

#include "core/device_state.hpp"
#include "sensors/sample_source.hpp"

namespace tilehv::vdevices::sensors {

struct PortOptions {
  // Samples produced but not yet read by the guest; beyond this the oldest are dropped (and counted),
  // so a guest that falls behind sees current data and a count of what it missed.
  std::size_t max_queued_samples = 4096;
};

struct PortMetrics {
  std::uint64_t samples_produced = 0;
  std::uint64_t samples_delivered = 0;  // whole sample lines handed to read()
  std::uint64_t samples_dropped = 0;
  std::uint64_t commands = 0;
  std::uint64_t commands_refused = 0;  // answered with #error
  std::uint64_t bytes_out = 0;
};

class SensorPort final : public Snapshottable {
 public:
  static constexpr const char* kStateKind = "sensor-port";
  static constexpr std::uint16_t kStateVersion = 1;
  static constexpr std::size_t kMaxCommandLine = 256;  // bytes, without the newline
  static constexpr std::size_t kMaxControlLines = 64;  // replies and notices waiting to be read
  static constexpr std::size_t kMaxQueuedSamplesLimit = 1 << 20;
  // Samples pulled from the source per call; advance_to() loops, so this only bounds a batch.
  static constexpr std::size_t kPollBatch = 256;

  [[nodiscard]] static tl::expected<std::unique_ptr<SensorPort>, Error> create(std::unique_ptr<SampleSource> source,
                                                                               PortOptions options = {});

  [[nodiscard]] const Sensor& sensor() const noexcept { return source_->sensor(); }
  [[nodiscard]] std::string port_name() const { return "sensor." + sensor().name(); }
  // The header lines a reader gets first after open(): what a second reader joining the stream
  // later (a shadow partition) must be given before the lines it shares with the first.
  [[nodiscard]] std::string header() const;

  // The guest opened the port: the header and channel descriptors come first in what it reads next.
  // The rest of a line cut by an earlier reader is discarded (a cut sample counts as dropped).
  void open() noexcept;

  // Pulls every sample up to virtual time now_ns into the output queue. Time never goes back: an
  // earlier now_ns does nothing. The cost is proportional to the samples covered, so the caller
  // advances in steps. A source failure is returned and reported once in the stream ("#fault").
  [[nodiscard]] tl::expected<void, Error> advance_to(std::uint64_t now_ns) noexcept;

  // Guest-written bytes, in any fragmentation. Returns how many were consumed: fewer than offered
  // only while the reply queue is full, until the guest reads.
  [[nodiscard]] std::size_t write(std::span<const std::uint8_t> bytes) noexcept;

  // Fills `out` with stream bytes; returns how many. Lines may be split across calls.
  [[nodiscard]] std::size_t read(std::span<std::uint8_t> out) noexcept;
  [[nodiscard]] bool has_output() const noexcept;

  [[nodiscard]] std::uint64_t now_ns() const noexcept { return now_ns_; }
  [[nodiscard]] const PortMetrics& metrics() const noexcept { return metrics_; }

  [[nodiscard]] DeviceState save_state() const override;
  [[nodiscard]] tl::expected<void, StateError> restore_state(const DeviceState& state) override;

 private:
  SensorPort(std::unique_ptr<SampleSource> source, PortOptions options)
      : source_(std::move(source)), options_(options) {}

  void enqueue(const Sample& sample);
  void handle_line(std::string_view line);
  void reply(std::string line);
  // Moves the next line to emit into partial_; false when nothing is waiting.
  bool next_line();

  std::unique_ptr<SampleSource> source_;
  PortOptions options_;
  std::uint64_t now_ns_ = 0;

  // Output, in the order it is emitted: the line being read, the header, replies and notices, the
  // dropped count, samples, and finally "#end" once a finite source is exhausted.
  std::string partial_;
  std::size_t partial_pos_ = 0;
  bool partial_is_sample_ = false;
  bool header_pending_ = true;
  std::deque<std::string> control_;
  std::uint64_t dropped_pending_ = 0;
  std::deque<Sample> samples_;
  bool end_sent_ = false;
  std::string last_fault_;  // reported once until the source recovers

  // Input: the command line being assembled; `discarding_` while skipping an overlong one.
  std::string input_;
  bool discarding_ = false;

  PortMetrics metrics_;
};

}  // namespace tilehv::vdevices::sensors
