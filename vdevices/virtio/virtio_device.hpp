// VirtioDevice: what a virtio device model offers its transport (spec 2 and 5): identity, features,
// queues, configuration space, activation and reset. The device never sees the transport.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "core/device_state.hpp"
#include "memory/guest_memory.hpp"
#include "virtio/split_queue.hpp"

namespace tilehv::vdevices::virtio {

inline constexpr std::uint64_t kFeatureVersion1 = 1ULL << 32;          // VIRTIO_F_VERSION_1
inline constexpr std::uint64_t kFeatureIndirectDesc = 1ULL << 28;      // VIRTIO_RING_F_INDIRECT_DESC
inline constexpr std::uint64_t kFeatureEventIdx = 1ULL << 29;          // VIRTIO_RING_F_EVENT_IDX
inline constexpr std::uint64_t kFeatureAccessPlatform = 1ULL << 33;    // VIRTIO_F_ACCESS_PLATFORM

// How a device tells the driver something happened; the transport turns it into an interrupt.
// Lock order: the transport calls into the device (activate, reset) while holding its own lock, so a
// device must never call these while holding its own lock.
class VirtioInterrupt {
 public:
  virtual ~VirtioInterrupt() = default;
  virtual void used_buffers() noexcept = 0;    // spec 2.3: used buffer notification
  virtual void config_changed() noexcept = 0;  // spec 2.3: configuration change notification
};

// What the device gets when the driver sets DRIVER_OK: the negotiated features and its queues.
struct ActiveQueues {
  std::uint64_t features = 0;
  std::vector<SplitQueue> queues;  // one per queue the driver made ready, in queue order
  std::vector<std::uint16_t> queue_indices;
};

class VirtioDevice : public Snapshottable {
 public:
  [[nodiscard]] virtual std::uint32_t device_id() const noexcept = 0;  // spec 5: 4 = entropy, 1 = net, ...
  // Offered features; VIRTIO_F_VERSION_1 is required (modern devices only).
  [[nodiscard]] virtual std::uint64_t offered_features() const noexcept = 0;
  // The maximum size of each queue; the number of queues is its length.
  [[nodiscard]] virtual std::span<const std::uint16_t> queue_max_sizes() const noexcept = 0;
  [[nodiscard]] virtual std::uint32_t config_size() const noexcept = 0;
  virtual void read_config(std::uint32_t offset, std::span<std::uint8_t> data) noexcept = 0;
  virtual void write_config(std::uint32_t offset, std::span<const std::uint8_t> data) noexcept = 0;
  // DRIVER_OK: the device starts serving its queues. A refusal names the problem; the transport then
  // sets DEVICE_NEEDS_RESET.
  [[nodiscard]] virtual tl::expected<void, std::string> activate(ActiveQueues queues, VirtioInterrupt& interrupt) = 0;
  // The driver kicked `queue`. Errors in the queue are the guest's: the device reports them.
  [[nodiscard]] virtual tl::expected<void, std::string> notify(std::uint16_t queue) noexcept = 0;
  // After restore_state() of a device whose transport was active: the transport hands over its
  // interrupt again (the restored queues are already in the device).
  virtual void reattach(VirtioInterrupt& interrupt) noexcept = 0;
  // Back to the state before activation (status written 0, or after DEVICE_NEEDS_RESET).
  virtual void reset() noexcept = 0;
};

}  // namespace tilehv::vdevices::virtio
