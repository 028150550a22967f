// VirtioNet: the virtio network device (spec 5.1), one receive and one transmit queue, carrying
// Ethernet frames between the guest and a FrameBackend (a switch port or a TAP device).
//
// Features are negotiated honestly: the MAC address and MTU the tile assigns, the link status, and
// transmit checksum offload (the device completes a partial checksum before the frame leaves, so the
// far side never depends on what this guest negotiated). Nothing is offered that the device does not
// do: no segmentation offload, no merged receive buffers, no control queue.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "core/guest_error_reporter.hpp"
#include "net/frame_backend.hpp"
#include "net/mac_address.hpp"
#include "virtio/virtio_device.hpp"

namespace tilehv::vdevices {

inline constexpr std::uint64_t kNetFeatureCsum = 1ULL << 0;    // VIRTIO_NET_F_CSUM
inline constexpr std::uint64_t kNetFeatureMtu = 1ULL << 3;     // VIRTIO_NET_F_MTU
inline constexpr std::uint64_t kNetFeatureMac = 1ULL << 5;     // VIRTIO_NET_F_MAC
inline constexpr std::uint64_t kNetFeatureStatus = 1ULL << 16; // VIRTIO_NET_F_STATUS

// The header before every frame once VIRTIO_F_VERSION_1 is negotiated (spec 5.1.6).
inline constexpr std::uint32_t kNetHeaderBytes = 12;
inline constexpr std::uint8_t kNetHeaderNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
inline constexpr std::uint8_t kNetGsoNone = 0;
// An Ethernet header with one VLAN tag.
inline constexpr std::uint32_t kEthernetOverhead = 18;

struct VirtioNetConfig {
  MacAddress mac;
  std::uint16_t mtu = 1500;
};

struct VirtioNetMetrics {
  std::atomic<std::uint64_t> tx_frames{0}, tx_bytes{0};
  std::atomic<std::uint64_t> rx_frames{0}, rx_bytes{0};
  std::atomic<std::uint64_t> tx_malformed{0};     // header or size the device refuses: dropped
  std::atomic<std::uint64_t> tx_backend_full{0};  // waits for room in the backend (not drops)
  std::atomic<std::uint64_t> rx_too_big{0};       // a frame larger than the guest's buffer: dropped
  std::atomic<std::uint64_t> backend_failures{0}; // the backend broke: the link is down
};

class VirtioNet final : public virtio::VirtioDevice {
 public:
  static constexpr std::uint16_t kQueueSize = 256;
  static constexpr std::uint16_t kReceiveQueue = 0;
  static constexpr std::uint16_t kTransmitQueue = 1;

  VirtioNet(const memory::GuestMemory& memory, FrameBackend& backend, const VirtioNetConfig& config,
            GuestErrorReporter* reporter = nullptr);

  [[nodiscard]] std::uint32_t device_id() const noexcept override { return 1; }
  [[nodiscard]] std::uint64_t offered_features() const noexcept override;
  [[nodiscard]] std::span<const std::uint16_t> queue_max_sizes() const noexcept override { return queue_sizes_; }
  [[nodiscard]] std::uint32_t config_size() const noexcept override { return 12; }
  void read_config(std::uint32_t offset, std::span<std::uint8_t> data) noexcept override;
  void write_config(std::uint32_t, std::span<const std::uint8_t>) noexcept override {}  // read-only (spec 5.1.4)

  [[nodiscard]] tl::expected<void, std::string> activate(virtio::ActiveQueues queues,
                                                         virtio::VirtioInterrupt& interrupt) override;
  [[nodiscard]] tl::expected<void, std::string> notify(std::uint16_t queue) noexcept override;
  void reattach(virtio::VirtioInterrupt& interrupt) noexcept override;
  void reset() noexcept override;

  // The backend's wake fd fired: frames arrived, or room for frames the device held back.
  [[nodiscard]] tl::expected<void, std::string> backend_ready() noexcept;

  [[nodiscard]] DeviceState save_state() const override;
  [[nodiscard]] tl::expected<void, StateError> restore_state(const DeviceState& state) override;

  [[nodiscard]] const VirtioNetMetrics& metrics() const noexcept { return metrics_; }
  [[nodiscard]] const VirtioNetConfig& config() const noexcept { return config_; }

 private:
  // Each returns whether the driver should be interrupted; the caller signals outside the lock.
  [[nodiscard]] tl::expected<bool, std::string> transmit();
  struct Drained {
    bool used_any = false;
    bool backend_full = false;
  };
  [[nodiscard]] tl::expected<Drained, std::string> transmit_available();
  [[nodiscard]] tl::expected<bool, std::string> receive();
  [[nodiscard]] bool prepare_frame(std::vector<std::uint8_t>& packet);  // false: drop it
  void backend_failed(const std::string& what);
  [[nodiscard]] tl::expected<void, std::string> serve(bool tx, bool rx) noexcept;

  const memory::GuestMemory& memory_;
  FrameBackend& backend_;
  VirtioNetConfig config_;
  GuestErrorReporter* reporter_;
  std::uint16_t queue_sizes_[2] = {kQueueSize, kQueueSize};

  mutable std::mutex mutex_;
  std::uint64_t features_ = 0;
  std::optional<virtio::SplitQueue> rx_;
  std::optional<virtio::SplitQueue> tx_;
  virtio::VirtioInterrupt* interrupt_ = nullptr;
  bool backend_broken_ = false;
  std::vector<std::uint8_t> tx_buffer_;  // one frame with its header, gathered from guest memory
  std::vector<std::uint8_t> rx_buffer_;
  VirtioNetMetrics metrics_;
};

}  // namespace tilehv::vdevices
