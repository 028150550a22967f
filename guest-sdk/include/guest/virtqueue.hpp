// Virtqueue (driver side): a split virtqueue (virtio 1.2 spec 2.7) in the kernel's own memory. The
// ring logic lives in VirtqueueBase; SizedVirtqueue<N> provides the storage for N entries, and
// Virtqueue is the 16-entry queue of simple polling drivers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace guest::virtio {

struct DriverBuffer {
  const void* address;  // identity-mapped: virtual = physical
  uint32_t length;
  bool device_writable;
};

struct [[gnu::packed]] RingDescriptor {
  uint64_t address;
  uint32_t length;
  uint16_t flags;
  uint16_t next;
};

struct RingUsedElement {
  uint32_t id;
  uint32_t length;
};

class VirtqueueBase {
 public:
  VirtqueueBase(const VirtqueueBase&) = delete;
  VirtqueueBase& operator=(const VirtqueueBase&) = delete;

  // Places a chain (readable buffers first) and makes it available; returns the head, or -1 if there
  // is no room.
  int add(const DriverBuffer* buffers, size_t count);
  // The next used chain: head and bytes written; false if none yet. A used element naming a
  // descriptor outside the queue is skipped and counted (bad_used_elements()).
  bool take_used(uint16_t& head, uint32_t& written);
  // Whether the device has returned a chain that take_used() has not taken yet.
  [[nodiscard]] bool has_used() const;

  // After add(): whether the device wants a notification (used ring flags, spec 2.7.10); a device
  // that is already processing the queue says no, which saves the driver a VM exit per buffer.
  [[nodiscard]] bool notification_wanted() const;
  // Asks the device to interrupt (or not) when it returns buffers: a hint (spec 2.7.7), so a
  // driver still checks the used ring after waking for any other reason.
  void set_interrupts(bool enabled);

  // Entries in use by the device's ring: the storage size unless shrink() reduced it.
  [[nodiscard]] uint16_t size() const { return size_; }
  [[nodiscard]] uint16_t capacity() const { return capacity_; }
  [[nodiscard]] uint16_t free_descriptors() const;
  [[nodiscard]] uint64_t bad_used_elements() const { return bad_used_; }
  // Before the first add(): runs the ring on fewer entries, for a device whose queues are smaller
  // than the storage. size must be a power of two no larger than capacity().
  bool shrink(uint16_t size);

  [[nodiscard]] uint64_t descriptor_table() const;
  [[nodiscard]] uint64_t available_ring() const;
  [[nodiscard]] uint64_t used_ring() const;

 protected:
  // Where the rings of the derived storage live; every field gets its own pointer.
  struct Storage {
    RingDescriptor* descriptors;
    uint16_t* available_flags;  // the available ring starts here
    uint16_t* available_index;
    uint16_t* available_ring;
    uint16_t* used_flags;  // the used ring starts here
    uint16_t* used_index;
    RingUsedElement* used_ring;
  };
  constexpr VirtqueueBase(uint16_t capacity, const Storage& storage)
      : storage_(storage), capacity_(capacity), size_(capacity), free_count_(capacity) {}
  ~VirtqueueBase() = default;

 private:
  void init();

  Storage storage_;
  uint16_t capacity_;
  uint16_t size_;
  // Free descriptors are linked through their next fields, as Linux's driver does; a used chain is
  // walked back onto the list.
  uint16_t free_head_ = 0;
  uint16_t free_count_;
  uint16_t last_used_ = 0;
  bool initialized_ = false;
  uint64_t bad_used_ = 0;
};

// The storage of an N-entry split queue with the alignment spec 2.7 asks for (descriptors 16,
// available ring 2, used ring 4). N is a power of two, at most 32768 (spec 2.7).
template <uint16_t N>
class SizedVirtqueue final : public VirtqueueBase {
  static_assert(N != 0 && (N & (N - 1)) == 0 && N <= 32768, "split queue sizes are powers of two up to 32768");

 public:
  static constexpr uint16_t kSize = N;
  constexpr SizedVirtqueue()
      : VirtqueueBase(N, Storage{descriptors_, &available_.flags, &available_.index, available_.ring, &used_.flags,
                                 &used_.index, used_.ring}) {}

 private:
  struct Available {
    uint16_t flags;
    uint16_t index;
    uint16_t ring[N];
    uint16_t used_event;
  };
  struct Used {
    uint16_t flags;
    uint16_t index;
    RingUsedElement ring[N];
    uint16_t avail_event;
  };
  static_assert(sizeof(Available) == 6 + 2 * N && sizeof(Used) == 8 + 8 * N, "ring layout of spec 2.7.6/2.7.8");

  alignas(16) RingDescriptor descriptors_[N] = {};
  alignas(2) Available available_ = {};
  alignas(4) Used used_ = {};
};

using Virtqueue = SizedVirtqueue<16>;

}  // namespace guest::virtio
