// virtio-vsock (driver side): a virtio 1.2 socket device (spec 5.10) over virtio-mmio, modern only,
// as the Transport of vsock::Sockets.
//
// Negotiates VERSION_1 and, when offered, VIRTIO_VSOCK_F_STREAM; never SEQPACKET, so streams are
// the only socket type either way (spec 5.10.3: without feature bits a device does streams). The
// guest's CID comes from the configuration (le64 guest_cid, spec 5.10.4) and is read again after a
// transport reset event. Receive queue 0 is kept full of 4 KiB buffers, each taking one whole packet
// (header and payload); transmit queue 1 takes one 4 KiB buffer per packet, its completions reaped
// lazily; event queue 2 holds buffers for the device's events. The device's interrupt is routed
// through the IOAPIC, so waiting halts the CPU; without an IOAPIC the driver polls.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/virtio_interrupt.hpp>
#include <guest/virtio_mmio.hpp>
#include <guest/virtqueue.hpp>
#include <guest/vsock/transport.hpp>

namespace guest::virtio {

struct VsockCounters {
  uint64_t received = 0;
  uint64_t sent = 0;
  uint64_t rx_malformed = 0;  // a used length shorter than a header, or than the header's len says
  uint64_t rx_dropped = 0;    // a payload larger than the caller's buffer
  uint64_t tx_busy = 0;       // send() found the transmit queue full
  uint64_t events = 0;        // event buffers the device returned
  uint64_t transport_resets = 0;
};

class VsockDevice final : public vsock::Transport {
 public:
  static constexpr uint32_t kDeviceId = 19;
  static constexpr uint16_t kQueueSize = 64;
  static constexpr uint16_t kEventQueueSize = 4;
  static constexpr size_t kBufferSize = vsock::kPacketBufferSize;

  enum class InitError : uint8_t {
    none,
    no_device,
    features_refused,
    no_receive_queue,
    no_transmit_queue,
    no_event_queue,
    bad_cid,  // the configuration holds a reserved CID (spec 5.10.4)
    device_failed,
  };

  VsockDevice() = default;
  VsockDevice(const VsockDevice&) = delete;
  VsockDevice& operator=(const VsockDevice&) = delete;

  // Brings up the first virtio-vsock device announced on the command line, or the one at info, once.
  // In place rather than from a factory: the rings and buffers (about 520 KiB) live in this object,
  // which kernels keep in a global.
  InitError init();
  InitError init(const MmioDeviceInfo& info);

  [[nodiscard]] uint64_t local_cid() const override { return cid_; }
  [[nodiscard]] size_t max_payload() const override { return kBufferSize - vsock::kHeaderSize; }
  vsock::SendResult send(const vsock::Header& header, const void* payload) override;
  bool receive(vsock::Header& header, uint8_t* payload, size_t capacity) override;
  bool take_reset() override;
  bool wait(const time::Deadline& deadline, bool for_send) override;
  bool wait_sent(const time::Deadline& deadline) override;

  [[nodiscard]] const MmioDeviceInfo& info() const { return info_; }
  [[nodiscard]] uint64_t features() const { return device_.features(); }
  // Whether waits halt on the device's interrupt (false: they poll).
  [[nodiscard]] bool interrupt_driven() const { return interrupt_.enabled(); }
  [[nodiscard]] DeviceInterrupt& interrupt() { return interrupt_; }
  [[nodiscard]] const VsockCounters& counters() const { return counters_; }

 private:
  // The CID from the configuration, read as two halves between equal generations (spec 2.5.1).
  uint64_t read_cid();
  void post_receive_buffer(uint16_t slot);
  void post_event_buffer(uint16_t slot);
  void reap_transmitted();
  [[nodiscard]] bool transmit_room();

  MmioDeviceInfo info_{};
  MmioDevice device_{MmioDeviceInfo{}};
  DeviceInterrupt interrupt_;
  uint64_t cid_ = 0;
  VsockCounters counters_;

  SizedVirtqueue<kQueueSize> rx_;
  SizedVirtqueue<kQueueSize> tx_;
  SizedVirtqueue<kEventQueueSize> event_;
  // Which buffer each descriptor head carries: the device returns heads, the driver finds buffers.
  uint16_t rx_slot_of_head_[kQueueSize] = {};
  uint16_t tx_slot_of_head_[kQueueSize] = {};
  uint16_t event_slot_of_head_[kEventQueueSize] = {};
  uint16_t tx_free_slots_[kQueueSize] = {};
  uint16_t tx_free_count_ = 0;
  // struct virtio_vsock_event is one le32 id (spec 5.10.6.6).
  alignas(8) uint8_t event_buffers_[kEventQueueSize][4] = {};
  // No initializer on purpose: written before they are read, and kept in .bss rather than the image.
  alignas(64) uint8_t rx_buffers_[kQueueSize][kBufferSize];
  alignas(64) uint8_t tx_buffers_[kQueueSize][kBufferSize];
};

}  // namespace guest::virtio
