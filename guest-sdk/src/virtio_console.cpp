// virtio-console (driver side, virtio 1.2 spec 5.3) with VIRTIO_CONSOLE_F_MULTIPORT: the control
// handshake, named ports, and byte reads and writes on a port, by polling.
#include <guest/cpu.hpp>
#include <guest/time.hpp>
#include <guest/virtio_console.hpp>

namespace guest::virtio {
namespace {

constexpr uint64_t kFeatureMultiport = 1ULL << 1;  // VIRTIO_CONSOLE_F_MULTIPORT
constexpr uint32_t kNoPort = 0xffffffff;           // the id of DEVICE_READY
constexpr uint16_t kControlReceiveQueue = 2;
constexpr uint16_t kControlTransmitQueue = 3;
constexpr uint32_t kConfigMaxPorts = 4;  // struct virtio_console_config.max_nr_ports

// Spec 5.3.6.2, the control message events.
enum : uint16_t {
  kDeviceReady = 0, kDeviceAdd = 1, kDeviceRemove = 2, kPortReady = 3,
  kConsolePort = 4, kResize = 5, kPortOpen = 6, kPortName = 7,
};

uint32_t le32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24); }
uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

}  // namespace

bool ConsoleDevice::init(const MmioDeviceInfo& info) {
  device_ = MmioDevice(info);
  const uint64_t offered = device_.start_init();
  if ((offered & kFeatureMultiport) == 0 || !device_.accept_features(kFeatureMultiport)) return false;
  // Spec 5.3.4: max_nr_ports is valid with MULTIPORT; read between two equal generations (spec 2.5.1).
  uint32_t generation = 0;
  do {
    generation = device_.config_generation();
    device_ports_ = device_.config32(kConfigMaxPorts);
  } while (generation != device_.config_generation());
  driven_ports_ = device_ports_ < kMaxPorts ? device_ports_ : kMaxPorts;
  if (driven_ports_ == 0) return false;
  // Polling driver: ask the device not to interrupt at all (a hint, spec 2.7.7).
  for (uint32_t id = 0; id < driven_ports_; ++id) {
    PortQueues& q = queues_[id];
    q.receive.set_interrupts(false);
    q.transmit.set_interrupts(false);
    if (!device_.setup_queue(receive_queue(id), q.receive) ||
        !device_.setup_queue(static_cast<uint16_t>(receive_queue(id) + 1), q.transmit)) {
      return false;
    }
  }
  control_receive_.set_interrupts(false);
  control_transmit_.set_interrupts(false);
  if (!device_.setup_queue(kControlReceiveQueue, control_receive_) ||
      !device_.setup_queue(kControlTransmitQueue, control_transmit_) || !device_.finish_init()) {
    return false;
  }
  // Control buffers before DEVICE_READY: a device may drop announcements it has no buffer for.
  for (uint8_t b = 0; b < kControlBuffers; ++b) {
    if (!queue_control_buffer(b)) return false;
  }
  device_.notify(kControlReceiveQueue);
  return send_control(kNoPort, kDeviceReady, 1);
}

bool ConsoleDevice::queue_control_buffer(uint8_t buffer) {
  const DriverBuffer b{control_buffers_[buffer], kControlBytes, true};
  const int head = control_receive_.add(&b, 1);
  if (head < 0) return false;
  control_buffer_of_head_[head] = static_cast<int8_t>(buffer);
  return true;
}

bool ConsoleDevice::queue_receive_buffer(PortQueues& q, uint8_t buffer) {
  const DriverBuffer b{q.buffers[buffer], kBufferBytes, true};
  const int head = q.receive.add(&b, 1);
  if (head < 0) return false;
  q.buffer_of_head[head] = static_cast<int8_t>(buffer);
  return true;
}

bool ConsoleDevice::send_control(uint32_t id, uint16_t event, uint16_t value) {
  // One message at a time in one buffer: wait until the device has taken the previous one (also one
  // an earlier call gave up on) before reusing it, then for this one.
  const time::Deadline deadline = time::Deadline::after_ns(1'000'000'000);
  uint16_t head = 0;
  uint32_t written = 0;
  while (control_busy_ && !control_transmit_.take_used(head, written)) {
    if (deadline.expired()) return false;
    cpu::pause();
  }
  control_busy_ = false;
  const uint8_t message[8] = {static_cast<uint8_t>(id), static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id >> 16),
                              static_cast<uint8_t>(id >> 24), static_cast<uint8_t>(event),
                              static_cast<uint8_t>(event >> 8), static_cast<uint8_t>(value),
                              static_cast<uint8_t>(value >> 8)};
  __builtin_memcpy(control_out_, message, sizeof message);
  const DriverBuffer b{control_out_, sizeof message, false};
  if (control_transmit_.add(&b, 1) < 0) return false;
  control_busy_ = true;
  device_.notify(kControlTransmitQueue);
  while (!control_transmit_.take_used(head, written)) {
    if (deadline.expired()) return false;
    cpu::pause();
  }
  control_busy_ = false;
  return true;
}

size_t ConsoleDevice::poll_control() {
  size_t handled = 0;
  uint16_t head = 0;
  uint32_t written = 0;
  while (control_receive_.take_used(head, written)) {
    const int8_t buffer = control_buffer_of_head_[head];
    if (buffer < 0 || static_cast<uint32_t>(buffer) >= kControlBuffers) continue;  // not ours: lost
    // Never trust the device's length: at most what the buffer holds.
    handle_control(control_buffers_[buffer], written < kControlBytes ? written : kControlBytes);
    queue_control_buffer(static_cast<uint8_t>(buffer));
    device_.notify(kControlReceiveQueue);
    ++handled;
  }
  return handled;
}

void ConsoleDevice::handle_control(const uint8_t* message, uint32_t length) {
  if (length < 8) return;
  const uint32_t id = le32(message);
  const uint16_t event = le16(message + 4);
  const uint16_t value = le16(message + 6);
  if (event == kDeviceAdd) {
    // Spec 5.3.6.2: answer PORT_READY 1 once the port is set up, 0 if it cannot be; a port added
    // twice is answered again without a second set of buffers, as Linux does.
    const bool ok = id < driven_ports_ && (ports_[id].present || add_port(id));
    send_control(id, kPortReady, ok ? 1 : 0);
    return;
  }
  if (id >= driven_ports_ || !ports_[id].present) return;  // a port we do not drive
  Port& port = ports_[id];
  switch (event) {
    case kPortName: {
      // The name follows the header; QEMU adds a terminator, tilehv does not.
      const StrView name = StrView::bounded(reinterpret_cast<const char*>(message + 8), length - 8);
      const size_t n = name.size() < kMaxNameLength ? name.size() : kMaxNameLength;
      __builtin_memcpy(port.name, name.data(), n);
      port.name[n] = '\0';
      break;
    }
    case kConsolePort:
      // Spec 5.3.6.2: the driver must answer a console port with PORT_OPEN 1.
      port.console = value != 0;
      if (port.console) open(id);
      break;
    case kPortOpen:
      port.host_open = value != 0;
      break;
    case kDeviceRemove:
      port = Port{};
      break;
    default:
      break;  // RESIZE and anything newer: nothing to do for a byte stream
  }
}

bool ConsoleDevice::add_port(uint32_t id) {
  // Receive buffers before PORT_READY, as Linux does: the device may send as soon as the port is open.
  PortQueues& q = queues_[id];
  for (uint8_t b = 0; b < kReceiveBuffers; ++b) {
    if (!queue_receive_buffer(q, b)) return false;
  }
  device_.notify(receive_queue(id));
  ports_[id] = Port{};
  ports_[id].present = true;
  return true;
}

void ConsoleDevice::settle(uint64_t quiet_ns, uint64_t max_ns) {
  const time::Deadline end = time::Deadline::after_ns(max_ns);
  time::Deadline quiet = time::Deadline::after_ns(quiet_ns);
  while (!quiet.expired() && !end.expired()) {
    if (poll_control() > 0) quiet = time::Deadline::after_ns(quiet_ns);
    cpu::pause();
  }
}

bool ConsoleDevice::find_port(StrView name, uint32_t& id) const {
  for (uint32_t i = 0; i < driven_ports_; ++i) {
    if (ports_[i].present && StrView(ports_[i].name) == name) {
      id = i;
      return true;
    }
  }
  return false;
}

bool ConsoleDevice::open(uint32_t id) {
  if (id >= driven_ports_ || !ports_[id].present) return false;
  ports_[id].guest_open = true;
  return send_control(id, kPortOpen, 1);
}

bool ConsoleDevice::close(uint32_t id) {
  if (id >= driven_ports_ || !ports_[id].present) return false;
  ports_[id].guest_open = false;
  return send_control(id, kPortOpen, 0);
}

size_t ConsoleDevice::read(uint32_t id, uint8_t* out, size_t capacity) {
  if (id >= driven_ports_ || !ports_[id].present) return 0;
  PortQueues& q = queues_[id];
  while (q.pending_offset == q.pending_length) {
    uint16_t head = 0;
    uint32_t written = 0;
    if (!q.receive.take_used(head, written)) return 0;
    const int8_t buffer = q.buffer_of_head[head];
    if (buffer < 0 || static_cast<uint32_t>(buffer) >= kReceiveBuffers) continue;
    q.pending = static_cast<uint8_t>(buffer);
    q.pending_length = written < kBufferBytes ? written : kBufferBytes;
    q.pending_offset = 0;
    if (q.pending_length == 0) {
      queue_receive_buffer(q, q.pending);
      device_.notify(receive_queue(id));
    }
  }
  size_t n = q.pending_length - q.pending_offset;
  if (n > capacity) n = capacity;
  __builtin_memcpy(out, q.buffers[q.pending] + q.pending_offset, n);
  q.pending_offset += static_cast<uint32_t>(n);
  if (q.pending_offset == q.pending_length) {
    // Consumed: the buffer goes back to the device at once, as Linux's fill_queue does.
    queue_receive_buffer(q, q.pending);
    device_.notify(receive_queue(id));
  }
  return n;
}

bool ConsoleDevice::wait_transmit(uint32_t id, uint64_t timeout_ns) {
  PortQueues& q = queues_[id];
  const time::Deadline deadline = time::Deadline::after_ns(timeout_ns);
  uint16_t head = 0;
  uint32_t written = 0;
  while (q.transmit_busy) {
    if (q.transmit.take_used(head, written)) {
      q.transmit_busy = false;
      break;
    }
    if (deadline.expired()) return false;
    poll_control();
    cpu::pause();
  }
  return true;
}

bool ConsoleDevice::write(uint32_t id, const uint8_t* data, size_t size, uint64_t timeout_ns) {
  if (id >= driven_ports_ || !ports_[id].present) return false;
  PortQueues& q = queues_[id];
  while (size > 0) {
    // The one transmit buffer is reused: the device must have taken the previous chunk, also one a
    // timed-out call left behind (back-pressure from the host ends up here).
    if (!wait_transmit(id, timeout_ns)) return false;
    const uint32_t chunk = size < kBufferBytes ? static_cast<uint32_t>(size) : kBufferBytes;
    __builtin_memcpy(q.out, data, chunk);
    const DriverBuffer b{q.out, chunk, false};
    if (q.transmit.add(&b, 1) < 0) return false;
    q.transmit_busy = true;
    device_.notify(static_cast<uint16_t>(receive_queue(id) + 1));
    data += chunk;
    size -= chunk;
  }
  return wait_transmit(id, timeout_ns);
}

}  // namespace guest::virtio
