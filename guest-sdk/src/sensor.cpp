// Sensors: the driver for the tile's sensor ports over the virtio console.
#include <guest/format.hpp>
#include <guest/sensor.hpp>
#include <guest/sensor/fields.hpp>

namespace guest::sensor {
namespace {

// The sensor name of a port name "sensor.<name>"; empty if it is no sensor port.
StrView sensor_name(const virtio::ConsoleDevice::Port& port) {
  const StrView name(port.name);
  if (!port.present || !name.starts_with(kPortPrefix)) return {};
  const StrView rest = name.substr(kPortPrefix.size());
  return valid_name(rest) ? rest : StrView();
}

}  // namespace

size_t find_ports(const virtio::ConsoleDevice& console, uint32_t* out, size_t capacity) {
  size_t found = 0;
  for (uint32_t id = 0; id < virtio::ConsoleDevice::kMaxPorts && found < capacity; ++id) {
    if (!sensor_name(console.port(id)).empty()) out[found++] = id;
  }
  return found;
}

bool Port::open(virtio::ConsoleDevice& console, uint32_t id) {
  // port() answers an id out of range with port 0: check first.
  if (id >= virtio::ConsoleDevice::kMaxPorts) return false;
  const StrView name = sensor_name(console.port(id));
  if (name.empty()) return false;
  // Opening again (the same port) keeps what the stream learnt; only a partly received line is gone,
  // as the tile discards its rest and starts with the header.
  stream_.reset_line();
  received_length_ = 0;
  received_offset_ = 0;
  console_ = &console;
  id_ = id;
  __builtin_memcpy(name_, name.data(), name.size());
  name_[name.size()] = '\0';
  stream_.expect_name(name);
  return console.open(id);
}

bool Port::readable() {
  if (console_ == nullptr) return false;
  if (received_offset_ < received_length_) return true;
  received_length_ = console_->read(id_, received_, sizeof received_);
  received_offset_ = 0;
  return received_length_ > 0;
}

bool Port::next(Line& line) {
  size_t budget = kMaxBytesPerCall;
  while (budget > 0 && readable()) {
    size_t size = received_length_ - received_offset_;
    if (size > budget) size = budget;
    const size_t taken = stream_.consume(received_ + received_offset_, size, line);
    received_offset_ += taken;
    budget -= taken;
    if (line.kind != LineKind::none) {
      note(line);
      return true;
    }
  }
  return false;
}

void Port::note(const Line& line) {
  switch (line.kind) {
    case LineKind::header:
      describe_sent_ = false;
      break;
    case LineKind::unframed:
      // The description was lost or never came (a malformed #channel line, say): ask again, once.
      if (!describe_sent_) describe_sent_ = request_describe();
      break;
    case LineKind::rate_ok:
      if (pending_replies_ > 0) --pending_replies_;
      last_reply_ = RateReply{};
      last_reply_.status = RateReply::Status::ok;
      last_reply_.channel = line.rate.channel;
      last_reply_.rate_mhz = line.rate.rate_mhz;
      last_reply_.from_ns = line.rate.from_ns;
      break;
    case LineKind::error: {
      if (pending_replies_ > 0) --pending_replies_;
      last_reply_ = RateReply{};
      last_reply_.status = RateReply::Status::refused;
      // The message fits: it is part of a line of at most LineBuffer::kCapacity bytes.
      const size_t n = line.message.size() < LineBuffer::kCapacity ? line.message.size() : LineBuffer::kCapacity;
      __builtin_memcpy(last_reply_.message, line.message.data(), n);
      last_reply_.message[n] = '\0';
      break;
    }
    default:
      break;
  }
}

bool Port::send(const char* command, size_t size) {
  // SAFETY: the command is ASCII text; the device takes it as bytes.
  return console_ != nullptr && console_->write(id_, reinterpret_cast<const uint8_t*>(command), size);
}

bool Port::request_rate(StrView channel, uint64_t rate_mhz) {
  // A channel is named as the tile names it, or by its index; nothing else can reach the command
  // line, so a caller's text can never inject a second command.
  uint64_t index = 0;
  if (!valid_name(channel) && !parse_u64(channel, index)) return false;
  char command[64];
  const size_t size = format_to_buffer(command, sizeof command, "rate {} {}\n", channel, rate_mhz);
  if (size >= sizeof command || !send(command, size)) return false;
  ++pending_replies_;
  return true;
}

bool Port::request_describe() { return send("describe\n", 9); }

}  // namespace guest::sensor
