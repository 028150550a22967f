// MmioTransport: the virtio-mmio transport, version 2 (spec 4.2): the register file a driver programs,
// the device-status state machine, feature negotiation, queue setup and the interrupt status.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/bus_device.hpp"
#include "core/device_state.hpp"
#include "core/guest_error_reporter.hpp"
#include "core/interrupt_line.hpp"
#include "memory/guest_memory.hpp"
#include "virtio/virtio_device.hpp"

namespace tilehv::vdevices::virtio {

inline constexpr std::uint64_t kMmioWindowSize = 0x200;  // registers (0x100) plus configuration space

struct MmioTransportMetrics {
  std::atomic<std::uint64_t> notifications{0};
  std::atomic<std::uint64_t> interrupts{0};
  std::atomic<std::uint64_t> bad_accesses{0};  // unaligned or wrong-width register accesses
  std::atomic<std::uint64_t> resets_needed{0}; // times the guest broke the device (DEVICE_NEEDS_RESET)
};

class MmioTransport final : public MmioDevice, public VirtioInterrupt, public Snapshottable {
 public:
  MmioTransport(VirtioDevice& device, const memory::GuestMemory& memory, InterruptLine& irq);
  // Reports every DEVICE_NEEDS_RESET with its reason under `name`; optional, must outlive the transport.
  void set_error_reporter(GuestErrorReporter* reporter, std::string name);

  void mmio_read(std::uint64_t offset, std::span<std::uint8_t> data) noexcept override;
  void mmio_write(std::uint64_t offset, std::span<const std::uint8_t> data) noexcept override;

  // The driver kicked `queue` (a QueueNotify write, or the eventfd KVM signals for it). Safe from any
  // thread; a broken queue sets DEVICE_NEEDS_RESET.
  void notify_queue(std::uint16_t queue) noexcept;
  // Where the driver writes QueueNotify, relative to the window: for KVM ioeventfds.
  static constexpr std::uint64_t kQueueNotifyOffset = 0x050;
  // The device found the guest's queues broken outside a notification (serving its backend): the
  // same consequence as a failed notify, DEVICE_NEEDS_RESET with the reason.
  void device_error(const std::string& reason) noexcept;

  // VirtioInterrupt, for the device.
  void used_buffers() noexcept override;
  void config_changed() noexcept override;

  // The last thing the guest did wrong, for logs and reports ("" if nothing).
  [[nodiscard]] std::string last_error() const;
  [[nodiscard]] std::uint8_t status() const;
  [[nodiscard]] const MmioTransportMetrics& metrics() const noexcept { return metrics_; }

  // Transport registers only; the device saves its own state.
  [[nodiscard]] DeviceState save_state() const override;
  [[nodiscard]] tl::expected<void, StateError> restore_state(const DeviceState& state) override;

 private:
  struct QueueRegisters {
    std::uint16_t size = 0;
    bool ready = false;
    std::uint64_t descriptor_table = 0, available_ring = 0, used_ring = 0;
  };

  [[nodiscard]] std::uint32_t read_register(std::uint64_t offset);
  void write_register(std::uint64_t offset, std::uint32_t value);
  void write_status(std::uint32_t value);
  void driver_ok();
  void needs_reset(std::string reason);  // caller holds mutex_
  void reset_locked();
  void raise(std::uint32_t bits);  // caller holds mutex_
  [[nodiscard]] QueueRegisters* selected_queue();

  VirtioDevice& device_;
  const memory::GuestMemory& memory_;
  InterruptLine& irq_;
  mutable std::mutex mutex_;
  std::uint32_t device_features_sel_ = 0, driver_features_sel_ = 0, queue_sel_ = 0;
  std::uint64_t driver_features_ = 0;
  std::uint8_t status_ = 0;
  std::uint32_t interrupt_status_ = 0;
  std::uint32_t config_generation_ = 0;
  bool active_ = false;
  std::vector<QueueRegisters> queues_;
  std::string last_error_;
  GuestErrorReporter* reporter_ = nullptr;
  std::string name_;
  MmioTransportMetrics metrics_;
};

}  // namespace tilehv::vdevices::virtio
