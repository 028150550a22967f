// virtio-console (driver side, virtio 1.2 spec 5.3) with VIRTIO_CONSOLE_F_MULTIPORT: the control
// handshake, named ports, and byte reads and writes on a port, by polling.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/str_view.hpp>
#include <guest/virtio_mmio.hpp>
#include <guest/virtqueue.hpp>

namespace guest::virtio {

class ConsoleDevice {
 public:
  static constexpr uint32_t kDeviceId = 3;
  // Ports 0..kMaxPorts-1 are driven; a device announcing others gets PORT_READY 0 for them.
  static constexpr uint32_t kMaxPorts = 4;
  static constexpr size_t kMaxNameLength = 63;   // longer names are cut
  static constexpr uint32_t kReceiveBuffers = 8;  // per port
  static constexpr uint32_t kBufferBytes = 128;   // per receive buffer; also the largest write chunk

  struct Port {
    bool present = false;     // the device announced it (DEVICE_ADD) and we took it (PORT_READY 1)
    bool console = false;     // CONSOLE_PORT: the device's console
    bool host_open = false;   // the device's end is connected (PORT_OPEN from the device)
    bool guest_open = false;  // our end is open: the device sends host bytes only then
    char name[kMaxNameLength + 1] = {};
  };

  // Negotiates MULTIPORT, sets up the control queues and the queues of the first kMaxPorts ports,
  // fills the control receive queue and sends DEVICE_READY. False if the device lacks MULTIPORT or
  // refuses; status() then tells more.
  bool init(const MmioDeviceInfo& info);

  // Handles every control message the device has sent (answering DEVICE_ADD with PORT_READY and
  // CONSOLE_PORT with PORT_OPEN, as spec 5.3.6.2 asks); returns how many there were.
  size_t poll_control();
  // Polls the control queue until no message came for `quiet_ns`, or `max_ns` passed: the port
  // announcements have settled. Devices send names after DEVICE_ADD (tilehv) or after PORT_READY (QEMU).
  void settle(uint64_t quiet_ns, uint64_t max_ns);

  [[nodiscard]] const Port& port(uint32_t id) const { return ports_[id < kMaxPorts ? id : 0]; }
  [[nodiscard]] bool find_port(StrView name, uint32_t& id) const;

  // Opens or closes our end of a port (PORT_OPEN 1 or 0).
  bool open(uint32_t id);
  bool close(uint32_t id);
  // Up to `capacity` bytes the host sent on the port; 0 when none is there yet. Never waits.
  size_t read(uint32_t id, uint8_t* out, size_t capacity);
  // Sends `size` bytes and returns once the device has taken them all; false if the port is not
  // there or the device took longer than `timeout_ns` for a chunk (the bytes before it are sent).
  bool write(uint32_t id, const uint8_t* data, size_t size, uint64_t timeout_ns = 1'000'000'000);

  [[nodiscard]] uint32_t status() const { return device_.status(); }
  [[nodiscard]] uint32_t device_ports() const { return device_ports_; }

 private:
  struct PortQueues {
    Virtqueue receive;
    Virtqueue transmit;
    alignas(16) uint8_t buffers[kReceiveBuffers][kBufferBytes] = {};
    int8_t buffer_of_head[Virtqueue::kSize] = {};  // which buffer a receive descriptor carries
    uint8_t pending = 0;        // buffer being read from
    uint32_t pending_length = 0;
    uint32_t pending_offset = 0;
    alignas(16) uint8_t out[kBufferBytes] = {};
    bool transmit_busy = false;  // `out` is in the transmit queue
  };

  static constexpr uint32_t kControlBuffers = 8;
  static constexpr uint32_t kControlBytes = 8 + kMaxNameLength + 1;

  static constexpr uint16_t receive_queue(uint32_t id) { return static_cast<uint16_t>(id == 0 ? 0 : 2 * id + 2); }
  bool send_control(uint32_t id, uint16_t event, uint16_t value);
  bool wait_transmit(uint32_t id, uint64_t timeout_ns);
  void handle_control(const uint8_t* message, uint32_t length);
  bool add_port(uint32_t id);
  bool queue_receive_buffer(PortQueues& q, uint8_t buffer);
  bool queue_control_buffer(uint8_t buffer);

  MmioDevice device_{MmioDeviceInfo{}};
  uint32_t device_ports_ = 0;  // max_nr_ports of the device
  uint32_t driven_ports_ = 0;  // min(device_ports_, kMaxPorts)
  Port ports_[kMaxPorts];
  PortQueues queues_[kMaxPorts];
  Virtqueue control_receive_;
  Virtqueue control_transmit_;
  alignas(16) uint8_t control_buffers_[kControlBuffers][kControlBytes] = {};
  int8_t control_buffer_of_head_[Virtqueue::kSize] = {};
  alignas(16) uint8_t control_out_[8] = {};
  bool control_busy_ = false;  // control_out_ is in the control transmit queue
};

}  // namespace guest::virtio
