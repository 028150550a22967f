// virtio-net (driver side): a virtio 1.2 network device (spec 5.1) over virtio-mmio, modern only.
//
// Negotiates VERSION_1, MAC and, when the device offers a usable one, MTU; nothing else: no checksum
// or segmentation offloads and no mergeable receive buffers, so every buffer carries the 12-byte
// virtio_net_hdr_v1 and then one whole frame (spec 5.1.6). Receive queue 0 is kept full of
// 1536-byte buffers; transmit queue 1 takes one descriptor per frame and its completions are reaped
// lazily. Both queues hold up to kQueueSize entries (fewer if the device's queues are smaller).
// The device's interrupt is routed through the IOAPIC, so waiting halts the CPU; without an IOAPIC
// the driver polls.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/net/link.hpp>
#include <guest/virtio_interrupt.hpp>
#include <guest/virtio_mmio.hpp>
#include <guest/virtqueue.hpp>

namespace guest::virtio {

struct NetCounters {
  uint64_t received = 0;
  uint64_t sent = 0;
  uint64_t rx_dropped = 0;  // a frame the caller's buffer could not hold, or a used length that was nonsense
  uint64_t tx_busy = 0;     // send() found the transmit queue full
};

class NetDevice final : public net::Link {
 public:
  static constexpr uint32_t kDeviceId = 1;
  static constexpr uint16_t kQueueSize = 256;
  static constexpr size_t kHeaderSize = 12;  // virtio_net_hdr_v1: VERSION_1 always has num_buffers
  // The header and a 1514-byte frame, plus room for a VLAN tag: spec 5.1.6.3.1 asks for 1526 bytes
  // when neither mergeable buffers nor large receive offloads are negotiated.
  static constexpr size_t kBufferSize = 1536;
  static constexpr uint16_t kDefaultMtu = 1500;

  enum class InitError : uint8_t {
    none,
    no_device,
    features_refused,
    no_receive_queue,
    no_transmit_queue,
    device_failed,
    bad_queue_limit,
  };

  NetDevice() = default;
  NetDevice(const NetDevice&) = delete;
  NetDevice& operator=(const NetDevice&) = delete;

  // Brings up the first virtio-net device announced on the command line, or the one at info, once.
  // The device keeps its rings and buffers (about 800 KiB) in this object, which is why it is brought
  // up in place rather than returned by a factory: kernels keep it in a global. queue_limit (a power
  // of two, 2..kQueueSize) runs both queues on fewer entries: less buffering, and a transmit queue
  // that fills sooner.
  InitError init(uint16_t queue_limit = kQueueSize);
  InitError init(const MmioDeviceInfo& info, uint16_t queue_limit = kQueueSize);

  [[nodiscard]] net::MacAddress mac() const override { return mac_; }
  [[nodiscard]] uint16_t mtu() const override { return mtu_; }
  net::SendResult send(const void* frame, size_t size) override;
  size_t receive(void* frame, size_t capacity) override;
  bool wait_receive(const time::Deadline& deadline) override;
  bool wait_send(const time::Deadline& deadline) override;
  bool wait_sent(const time::Deadline& deadline) override;

  [[nodiscard]] const MmioDeviceInfo& info() const { return info_; }
  [[nodiscard]] uint64_t features() const { return device_.features(); }
  // Whether waits halt on the device's interrupt (false: they poll).
  [[nodiscard]] bool interrupt_driven() const { return interrupt_.enabled(); }
  [[nodiscard]] DeviceInterrupt& interrupt() { return interrupt_; }
  [[nodiscard]] const NetCounters& counters() const { return counters_; }
  [[nodiscard]] uint16_t receive_queue_size() const { return rx_.size(); }
  [[nodiscard]] uint16_t transmit_queue_size() const { return tx_.size(); }

 private:
  void read_config(bool want_mac);
  void post_receive_buffer(uint16_t slot);
  // Takes back the transmit buffers the device is done with.
  void reap_transmitted();

  MmioDeviceInfo info_{};
  MmioDevice device_{MmioDeviceInfo{}};
  DeviceInterrupt interrupt_;
  net::MacAddress mac_{};
  uint16_t mtu_ = kDefaultMtu;
  NetCounters counters_;

  SizedVirtqueue<kQueueSize> rx_;
  SizedVirtqueue<kQueueSize> tx_;
  // Which buffer each descriptor head carries: the device returns heads, the driver finds buffers.
  uint16_t rx_slot_of_head_[kQueueSize] = {};
  uint16_t tx_slot_of_head_[kQueueSize] = {};
  uint16_t tx_free_slots_[kQueueSize] = {};
  uint16_t tx_free_count_ = 0;
  // No initializer on purpose: the buffers are written before they are read, and without one the
  // device's 800 KiB stay in .bss instead of being copied into the image as initialized data.
  alignas(64) uint8_t rx_buffers_[kQueueSize][kBufferSize];
  alignas(64) uint8_t tx_buffers_[kQueueSize][kBufferSize];
};

}  // namespace guest::virtio
