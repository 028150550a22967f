// Sensors: the driver for the tile's sensor ports. Each sensor reaches a partition as a virtio-console
// port named "sensor.<name>" carrying the line stream of docs/sensors.md; a Port reads it through the
// console driver (guest/virtio_console.hpp) into a Stream (guest/sensor/stream.hpp), and writes the
// commands: "rate <channel> <mHz>" and "describe". Integer-only and allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/sensor/stream.hpp>
#include <guest/str_view.hpp>
#include <guest/virtio_console.hpp>

namespace guest::sensor {

inline constexpr StrView kPortPrefix = "sensor.";

// Writes the ids of the console's ports named "sensor.<valid name>" to `out` (at most `capacity`, in
// port order) and returns how many.
size_t find_ports(const virtio::ConsoleDevice& console, uint32_t* out, size_t capacity);

// The answer to the latest rate command.
struct RateReply {
  enum class Status : uint8_t { none, ok, refused };
  Status status = Status::none;
  uint32_t channel = 0;     // ok: the channel's index
  uint64_t rate_mhz = 0;    // ok: the rate now in force
  uint64_t from_ns = 0;     // ok: the timestamp of the channel's first sample at that rate
  char message[LineBuffer::kCapacity + 1] = {};  // refused: the tile's reason
};

class Port {
 public:
  // Reads of at most this many bytes per next() call: a stream that sends a line without end cannot
  // keep the caller in the driver.
  static constexpr size_t kMaxBytesPerCall = 4096;

  // Binds to the console's port `id`, which must be named sensor.<name>, and opens our end, which
  // makes the tile send the header. False if the port is no sensor port or would not open. A Port
  // serves one console port: open it again only to reopen that port.
  bool open(virtio::ConsoleDevice& console, uint32_t id);
  [[nodiscard]] StrView name() const { return StrView(name_); }
  [[nodiscard]] uint32_t port_id() const { return id_; }

  // The next line of the stream, checked by the Stream; false when no complete line is there yet.
  // Never waits. A sample that comes before the sensor described itself makes the driver ask for
  // the description again ("describe"), once until a header arrives.
  bool next(Line& line);
  // True when bytes are waiting to be parsed (reads ahead from the device), for wait loops.
  bool readable();

  // Sends "rate <channel> <mHz>": `channel` is a channel's name or index. The answer arrives in
  // the stream as a rate_ok or error line and is kept in last_reply(). False if the channel is not
  // a valid name or index, or the device did not take the command.
  bool request_rate(StrView channel, uint64_t rate_mhz);
  // Sends "describe": the tile sends the header again.
  bool request_describe();
  // Rate commands sent and not answered yet. Replies come in the order of the commands.
  [[nodiscard]] uint32_t pending_replies() const { return pending_replies_; }
  [[nodiscard]] const RateReply& last_reply() const { return last_reply_; }

  [[nodiscard]] const Stream& stream() const { return stream_; }

 private:
  bool send(const char* command, size_t size);
  void note(const Line& line);

  virtio::ConsoleDevice* console_ = nullptr;
  uint32_t id_ = 0;
  char name_[kMaxNameLength + 1] = {};
  Stream stream_;
  uint8_t received_[virtio::ConsoleDevice::kBufferBytes] = {};
  size_t received_length_ = 0;
  size_t received_offset_ = 0;
  bool describe_sent_ = false;  // since the last header
  uint32_t pending_replies_ = 0;
  RateReply last_reply_;
};

}  // namespace guest::sensor
