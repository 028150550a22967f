// VirtioVsock: the virtio socket device (spec 5.10), a relay of stream packets between the guest and
// an I/O-plane port, where the tile's channel router decides which partition may reach which.
//
// The device does not run connections itself: guests keep their own credit-based flow control end
// to end. It checks every packet the guest sends (well-formed, from the guest's own CID), and splits
// a data packet larger than the guest's receive buffer into several (the byte counts that flow
// control uses are unchanged by a split).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/guest_error_reporter.hpp"
#include "port/port_endpoint.hpp"
#include "virtio/virtio_device.hpp"
#include "vsock/vsock_packet.hpp"

namespace tilehv::vdevices {

inline constexpr std::uint64_t kVsockFeatureStream = 1ULL << 0;  // VIRTIO_VSOCK_F_STREAM

struct VirtioVsockMetrics {
  std::atomic<std::uint64_t> tx_packets{0}, rx_packets{0};
  std::atomic<std::uint64_t> tx_malformed{0};   // dropped: not a well-formed stream packet
  std::atomic<std::uint64_t> tx_spoofed{0};     // dropped: a source CID that is not the guest's
  std::atomic<std::uint64_t> tx_port_full{0};   // waits for room in the port (not drops)
  std::atomic<std::uint64_t> rx_split{0};       // data packets split to fit the guest's buffers
  std::atomic<std::uint64_t> rx_dropped{0};     // not for this guest, or no buffer could ever hold it
  std::atomic<std::uint64_t> port_failures{0};
};

class VirtioVsock final : public virtio::VirtioDevice {
 public:
  static constexpr std::uint16_t kQueueSize = 256;
  static constexpr std::uint16_t kReceiveQueue = 0;
  static constexpr std::uint16_t kTransmitQueue = 1;
  static constexpr std::uint16_t kEventQueue = 2;
  // The port must carry a full packet: use this with PortEndpoint::create.
  static constexpr port::PortConfig kPortConfig{512 * 1024, vsock::kHeaderBytes + vsock::kMaxPayload};

  VirtioVsock(const memory::GuestMemory& memory, port::PortEndpoint& port, std::uint64_t guest_cid,
              GuestErrorReporter* reporter = nullptr);

  [[nodiscard]] std::uint32_t device_id() const noexcept override { return 19; }
  [[nodiscard]] std::uint64_t offered_features() const noexcept override {
    return virtio::kFeatureVersion1 | virtio::kFeatureIndirectDesc | virtio::kFeatureEventIdx | kVsockFeatureStream;
  }
  [[nodiscard]] std::span<const std::uint16_t> queue_max_sizes() const noexcept override { return queue_sizes_; }
  [[nodiscard]] std::uint32_t config_size() const noexcept override { return 8; }
  void read_config(std::uint32_t offset, std::span<std::uint8_t> data) noexcept override;
  void write_config(std::uint32_t, std::span<const std::uint8_t>) noexcept override {}

  [[nodiscard]] tl::expected<void, std::string> activate(virtio::ActiveQueues queues,
                                                         virtio::VirtioInterrupt& interrupt) override;
  [[nodiscard]] tl::expected<void, std::string> notify(std::uint16_t queue) noexcept override;
  void reattach(virtio::VirtioInterrupt& interrupt) noexcept override;
  void reset() noexcept override;
  // The port's wake fd fired.
  [[nodiscard]] tl::expected<void, std::string> port_ready() noexcept;

  [[nodiscard]] DeviceState save_state() const override;
  [[nodiscard]] tl::expected<void, StateError> restore_state(const DeviceState& state) override;

  [[nodiscard]] std::uint64_t guest_cid() const noexcept { return guest_cid_; }
  [[nodiscard]] const VirtioVsockMetrics& metrics() const noexcept { return metrics_; }

 private:
  [[nodiscard]] tl::expected<void, std::string> serve(bool tx, bool rx) noexcept;
  [[nodiscard]] tl::expected<bool, std::string> transmit();
  [[nodiscard]] tl::expected<bool, std::string> receive();
  void report(const std::string& what, std::atomic<std::uint64_t>& counter);
  void port_failed(const std::string& what);

  const memory::GuestMemory& memory_;
  port::PortEndpoint& port_;
  std::uint64_t guest_cid_;
  GuestErrorReporter* reporter_;
  std::uint16_t queue_sizes_[3] = {kQueueSize, kQueueSize, 16};

  mutable std::mutex mutex_;
  std::uint64_t features_ = 0;
  std::optional<virtio::SplitQueue> rx_, tx_, event_;
  virtio::VirtioInterrupt* interrupt_ = nullptr;
  bool port_broken_ = false;
  std::vector<std::uint8_t> tx_buffer_;
  std::vector<std::uint8_t> rx_buffer_;  // one packet (or part of a split one) on its way to the guest
  // A packet taken from the port and not yet wholly given to the guest (the rest of a split).
  std::vector<std::uint8_t> pending_;
  std::uint32_t pending_offset_ = 0;  // payload bytes of `pending_` already delivered
  VirtioVsockMetrics metrics_;
};

}  // namespace tilehv::vdevices
