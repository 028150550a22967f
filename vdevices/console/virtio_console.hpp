// VirtioConsole: the virtio console device (spec 5.3) with VIRTIO_CONSOLE_F_MULTIPORT: named ports,
// each a byte stream to a host backend, announced to the driver over the control queues.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "console/console_port_backend.hpp"
#include "console/control_message.hpp"
#include "virtio/virtio_device.hpp"

namespace tilehv::vdevices {

inline constexpr std::uint64_t kFeatureConsoleMultiport = 1ULL << 1;  // VIRTIO_CONSOLE_F_MULTIPORT

struct ConsolePortConfig {
  std::string name;         // announced with PORT_NAME; empty: the port has no name
  bool is_console = false;  // announced with CONSOLE_PORT; port 0 only (spec 5.3.6.2)
  ConsolePortBackend* backend = nullptr;  // not owned; must outlive the device
};

// What the driver has told the device about a port.
struct ConsolePortStatus {
  bool announced = false;    // DEVICE_ADD and the rest were queued for the driver
  bool guest_ready = false;  // the driver answered PORT_READY 1
  bool guest_open = false;   // the driver's end is open: host bytes flow only then (Linux drops them otherwise)
  bool transmit_parked = false;  // a transmit chain waits for room in the backend
};

struct VirtioConsoleMetrics {
  std::atomic<std::uint64_t> control_from_driver{0};
  std::atomic<std::uint64_t> control_to_driver{0};
  std::atomic<std::uint64_t> bytes_to_guest{0};
  std::atomic<std::uint64_t> bytes_from_guest{0};
  std::atomic<std::uint64_t> transmit_stalls{0};  // times a backend took less than offered
};

class VirtioConsole final : public virtio::VirtioDevice {
 public:
  // Linux's default and QEMU's: 31 ports, 64 queues.
  static constexpr std::uint32_t kMaxPorts = 31;
  static constexpr std::uint16_t kQueueSize = 128;
  static constexpr std::size_t kMaxNameLength = 127;
  // Capping the bytes placed in one receive chain keeps one request's work bounded however large the
  // buffers the guest offers; the rest goes into the next chain.
  static constexpr std::uint32_t kMaxBytesPerReceive = 64 * 1024;
  static constexpr std::uint16_t kControlReceiveQueue = 2;
  static constexpr std::uint16_t kControlTransmitQueue = 3;

  // Checks the ports: 1 to kMaxPorts, a backend each, names of [A-Za-z0-9._-] up to kMaxNameLength
  // and unique, a console only at port 0.
  [[nodiscard]] static tl::expected<std::unique_ptr<VirtioConsole>, std::string> create(
      const memory::GuestMemory& memory, std::vector<ConsolePortConfig> ports);

  // Spec 5.3.2: port 0 has queues 0 and 1, the control queues are 2 and 3, port n > 0 has 2n+2, 2n+3.
  [[nodiscard]] static constexpr std::uint16_t receive_queue(std::uint32_t port) noexcept {
    return static_cast<std::uint16_t>(port == 0 ? 0 : 2 * port + 2);
  }
  [[nodiscard]] static constexpr std::uint16_t transmit_queue(std::uint32_t port) noexcept {
    return static_cast<std::uint16_t>(receive_queue(port) + 1);
  }

  [[nodiscard]] std::uint32_t device_id() const noexcept override { return 3; }
  [[nodiscard]] std::uint64_t offered_features() const noexcept override {
    return virtio::kFeatureVersion1 | virtio::kFeatureIndirectDesc | virtio::kFeatureEventIdx | kFeatureConsoleMultiport;
  }
  [[nodiscard]] std::span<const std::uint16_t> queue_max_sizes() const noexcept override { return queue_sizes_; }
  // Spec 5.3.4: cols, rows (0: VIRTIO_CONSOLE_F_SIZE not offered), max_nr_ports, emerg_wr (not offered).
  [[nodiscard]] std::uint32_t config_size() const noexcept override { return 12; }
  void read_config(std::uint32_t offset, std::span<std::uint8_t> data) noexcept override;
  // Every field is read-only without VIRTIO_CONSOLE_F_EMERG_WRITE: writes are ignored.
  void write_config(std::uint32_t, std::span<const std::uint8_t>) noexcept override {}

  [[nodiscard]] tl::expected<void, std::string> activate(virtio::ActiveQueues queues,
                                                         virtio::VirtioInterrupt& interrupt) override;
  // A kick of a port's queue serves that port both ways; a kick of a control queue serves the control
  // protocol. Backends wake a port through here too (see BackendWaker).
  [[nodiscard]] tl::expected<void, std::string> notify(std::uint16_t queue) noexcept override;
  void reattach(virtio::VirtioInterrupt& interrupt) noexcept override;
  void reset() noexcept override;

  [[nodiscard]] DeviceState save_state() const override;
  [[nodiscard]] tl::expected<void, StateError> restore_state(const DeviceState& state) override;

  [[nodiscard]] std::uint32_t port_count() const noexcept { return static_cast<std::uint32_t>(config_.size()); }
  [[nodiscard]] ConsolePortStatus port_status(std::uint32_t port) const;
  [[nodiscard]] const VirtioConsoleMetrics& metrics() const noexcept { return metrics_; }

 private:
  using Result = tl::expected<void, std::string>;

  struct PortState {
    bool guest_ready = false;
    bool guest_open = false;
    std::optional<virtio::DescriptorChain> held_receive;   // popped, waiting for host bytes
    std::optional<virtio::DescriptorChain> held_transmit;  // popped, partly taken by the backend
    std::uint64_t transmit_offset = 0;                     // bytes of held_transmit delivered
  };

  VirtioConsole(const memory::GuestMemory& memory, std::vector<ConsolePortConfig> ports);

  // Everything below runs with mutex_ held.
  [[nodiscard]] virtio::SplitQueue* queue(std::uint16_t index);
  [[nodiscard]] tl::expected<std::optional<virtio::DescriptorChain>, std::string> next_chain(std::uint16_t index);
  [[nodiscard]] Result complete(std::uint16_t index, std::uint16_t head, std::uint32_t written);
  [[nodiscard]] tl::expected<bool, std::string> interrupt_wanted();
  [[nodiscard]] bool port_receives(std::uint32_t port) const;

  // console_control.cpp: the control queues.
  [[nodiscard]] Result serve_control();
  [[nodiscard]] Result handle(const console::DriverMessage& message);
  [[nodiscard]] Result send_control();
  // console_data.cpp: a port's queues.
  [[nodiscard]] Result serve_port(std::uint32_t port);
  [[nodiscard]] Result serve_transmit(std::uint32_t port);
  [[nodiscard]] Result serve_receive(std::uint32_t port);

  const memory::GuestMemory& memory_;
  const std::vector<ConsolePortConfig> config_;
  const std::vector<std::uint16_t> queue_sizes_;

  mutable std::mutex mutex_;
  bool active_ = false;
  std::uint64_t features_ = 0;
  bool multiport_ = false;
  bool announced_ = false;  // DEVICE_READY seen: every port's announcement is queued or delivered
  std::vector<std::optional<virtio::SplitQueue>> queues_;
  std::vector<bool> pushed_;  // queues given used buffers since the last interrupt check
  std::vector<PortState> ports_;
  std::deque<console::OutgoingMessage> outbox_;  // control messages waiting for a control receive buffer
  std::vector<std::uint32_t> opened_;            // ports the driver opened in this pass: serve them next
  virtio::VirtioInterrupt* interrupt_ = nullptr;
  VirtioConsoleMetrics metrics_;
};

}  // namespace tilehv::vdevices
