// VirtioRng: the virtio entropy device (spec 5.4): fills every device-writable buffer the driver
// offers with bytes from its EntropySource.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>

#include "rng/entropy_source.hpp"
#include "virtio/virtio_device.hpp"

namespace tilehv::vdevices {

struct VirtioRngMetrics {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> source_failures{0};
};

class VirtioRng final : public virtio::VirtioDevice {
 public:
  static constexpr std::uint16_t kQueueSize = 256;
  // Capping the bytes served per request keeps one request's work bounded however large the
  // buffers the guest offers; the driver simply asks again.
  static constexpr std::uint32_t kMaxBytesPerRequest = 64 * 1024;

  VirtioRng(const memory::GuestMemory& memory, EntropySource& source) : memory_(memory), source_(source) {}

  [[nodiscard]] std::uint32_t device_id() const noexcept override { return 4; }
  [[nodiscard]] std::uint64_t offered_features() const noexcept override {
    return virtio::kFeatureVersion1 | virtio::kFeatureIndirectDesc | virtio::kFeatureEventIdx;
  }
  [[nodiscard]] std::span<const std::uint16_t> queue_max_sizes() const noexcept override { return {&kQueueSize, 1}; }
  // No configuration space (spec 5.4.4).
  [[nodiscard]] std::uint32_t config_size() const noexcept override { return 0; }
  void read_config(std::uint32_t, std::span<std::uint8_t>) noexcept override {}
  void write_config(std::uint32_t, std::span<const std::uint8_t>) noexcept override {}

  [[nodiscard]] tl::expected<void, std::string> activate(virtio::ActiveQueues queues,
                                                         virtio::VirtioInterrupt& interrupt) override;
  [[nodiscard]] tl::expected<void, std::string> notify(std::uint16_t queue) noexcept override;
  void reattach(virtio::VirtioInterrupt& interrupt) noexcept override;
  void reset() noexcept override;

  [[nodiscard]] DeviceState save_state() const override;
  [[nodiscard]] tl::expected<void, StateError> restore_state(const DeviceState& state) override;

  [[nodiscard]] const VirtioRngMetrics& metrics() const noexcept { return metrics_; }

 private:
  const memory::GuestMemory& memory_;
  EntropySource& source_;
  mutable std::mutex mutex_;
  std::optional<virtio::SplitQueue> queue_;
  virtio::VirtioInterrupt* interrupt_ = nullptr;
  VirtioRngMetrics metrics_;
};

}  // namespace tilehv::vdevices
