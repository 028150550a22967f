// SplitQueue: the device side of a virtio 1.2 split virtqueue (spec 2.7), with every guest-supplied
// address, length, index, flag and chain checked before use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "core/device_state.hpp"
#include "memory/guest_memory.hpp"

namespace tilehv::vdevices::virtio {

// Spec 2.7: a split queue has at most 32768 entries, always a power of 2.
inline constexpr std::uint16_t kMaxQueueSize = 32768;
// Bounds an indirect table independently of the queue: 16 KiB of descriptors is more than any driver
// uses (Linux caps scatter lists far lower), and it bounds the walk of one chain.
inline constexpr std::uint32_t kMaxIndirectDescriptors = 1024;

struct QueueLayout {
  std::uint16_t size = 0;
  std::uint64_t descriptor_table = 0;
  std::uint64_t available_ring = 0;
  std::uint64_t used_ring = 0;
};

struct QueueFeatures {
  bool indirect_descriptors = false;  // VIRTIO_RING_F_INDIRECT_DESC negotiated
  bool event_index = false;           // VIRTIO_RING_F_EVENT_IDX negotiated
};

// One buffer of a chain, already checked to lie inside guest RAM.
struct Buffer {
  std::uint64_t address = 0;
  std::uint32_t length = 0;
  bool device_writable = false;
};

struct DescriptorChain {
  std::uint16_t head = 0;
  std::vector<Buffer> buffers;  // device-readable buffers first, then device-writable ones
  std::uint64_t readable_bytes = 0;
  std::uint64_t writable_bytes = 0;
};

enum class QueueErrc {
  kBadLayout,           // size not a power of 2, rings misaligned or outside RAM
  kAvailIndexJump,      // the driver claims more new buffers than the queue holds
  kHeadOutOfRange,      // an available-ring entry names a descriptor beyond the table
  kNextOutOfRange,      // a descriptor's next field points beyond its table
  kChainTooLong,        // more descriptors than the table holds: a loop or a giant chain
  kBufferOutsideRam,    // a buffer is not entirely inside guest RAM
  kBadIndirect,         // indirect table misused: not negotiated, nested, with NEXT, bad length, outside RAM
  kReadableAfterWritable,  // spec 2.7.4.2: device-readable descriptors must come first
  kRingOutsideRam,      // a ring access failed (cannot happen after a good layout; checked anyway)
  kBadUsedHead,         // the device returned a head it was not given
};

struct QueueError {
  QueueErrc code;
  std::string message;  // what the guest did, with the index and address involved
};

class SplitQueue {
 public:
  // Checks the layout against guest memory: power-of-2 size, alignment (spec 2.7: descriptor table 16,
  // available ring 2, used ring 4) and every ring entirely inside RAM.
  [[nodiscard]] static tl::expected<SplitQueue, QueueError> create(const QueueLayout& layout,
                                                                   const memory::GuestMemory& memory,
                                                                   QueueFeatures features);

  // The next available chain, or nullopt when the driver has made none available.
  [[nodiscard]] tl::expected<std::optional<DescriptorChain>, QueueError> pop();

  // Gives back the chain the last pop() returned, unused, so that the next pop() reads it again: for a
  // device that cannot serve it yet (no room in its backend). The ring entry is re-read and re-checked.
  void undo_pop() noexcept { --next_avail_; }

  // Returns a chain to the driver with `written` bytes written into its device-writable buffers.
  [[nodiscard]] tl::expected<void, QueueError> push_used(std::uint16_t head, std::uint32_t written);

  // Whether the driver asked to be interrupted for the used buffers pushed since the last call
  // (VRING_AVAIL_F_NO_INTERRUPT, or used_event with the event index).
  [[nodiscard]] tl::expected<bool, QueueError> needs_interrupt();

  // Tells the driver whether it needs to notify the device for new buffers (VRING_USED_F_NO_NOTIFY, or
  // avail_event with the event index).
  [[nodiscard]] tl::expected<void, QueueError> set_notifications(bool enabled);

  [[nodiscard]] const QueueLayout& layout() const noexcept { return layout_; }
  [[nodiscard]] std::uint16_t next_available() const noexcept { return next_avail_; }
  [[nodiscard]] std::uint16_t next_used() const noexcept { return next_used_; }
  [[nodiscard]] std::uint16_t in_flight() const noexcept { return static_cast<std::uint16_t>(next_avail_ - next_used_); }

  // The queue's own state (the rings live in guest memory): layout, features and indices.
  void save(StateWriter& out) const;
  [[nodiscard]] static tl::expected<SplitQueue, QueueError> restore(StateReader& in, const memory::GuestMemory& memory);

 private:
  SplitQueue(const QueueLayout& layout, const memory::GuestMemory& memory, QueueFeatures features)
      : layout_(layout), memory_(&memory), features_(features) {}

  [[nodiscard]] tl::expected<std::uint16_t, QueueError> read_u16(std::uint64_t address) const;
  [[nodiscard]] tl::expected<void, QueueError> write_u16(std::uint64_t address, std::uint16_t value) const;
  [[nodiscard]] tl::expected<DescriptorChain, QueueError> walk(std::uint16_t head) const;

  QueueLayout layout_;
  const memory::GuestMemory* memory_;
  QueueFeatures features_;
  std::uint16_t next_avail_ = 0;   // the next available-ring slot to read
  std::uint16_t next_used_ = 0;    // the next used-ring slot to write; only the device moves it
  std::uint16_t signalled_used_ = 0;  // next_used_ when the driver was last interrupted (event index)
  bool signalled_valid_ = false;
};

}  // namespace tilehv::vdevices::virtio
