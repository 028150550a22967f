// Virtqueue (driver side): a split virtqueue of up to 16 entries in the kernel's own memory, for
// polling drivers: add a chain, notify, wait for it to come back.
#pragma once

#include <cstddef>
#include <cstdint>

namespace guest::virtio {

struct DriverBuffer {
  const void* address;  // identity-mapped: virtual = physical
  uint32_t length;
  bool device_writable;
};

class Virtqueue {
 public:
  static constexpr uint16_t kSize = 16;

  // Places a chain (readable buffers first) and makes it available; returns the head, or -1 if there
  // is no room.
  int add(const DriverBuffer* buffers, size_t count);
  // The next used chain: head and bytes written; false if none yet.
  bool take_used(uint16_t& head, uint32_t& written);

  [[nodiscard]] uint64_t descriptor_table() const;
  [[nodiscard]] uint64_t available_ring() const;
  [[nodiscard]] uint64_t used_ring() const;

 private:
  struct [[gnu::packed]] Descriptor {
    uint64_t address;
    uint32_t length;
    uint16_t flags;
    uint16_t next;
  };
  struct Available {
    uint16_t flags;
    uint16_t index;
    uint16_t ring[kSize];
    uint16_t used_event;
  };
  struct UsedElement {
    uint32_t id;
    uint32_t length;
  };
  struct Used {
    uint16_t flags;
    uint16_t index;
    UsedElement ring[kSize];
    uint16_t avail_event;
  };

  alignas(16) Descriptor descriptors_[kSize] = {};
  alignas(2) Available available_ = {};
  alignas(4) Used used_ = {};
  // Free descriptors are linked through their next fields, as Linux's driver does; a used chain is
  // walked back onto the list.
  uint16_t free_head_ = 0;
  uint16_t free_count_ = kSize;
  bool initialized_ = false;
  uint16_t last_used_ = 0;
  void init();
};

}  // namespace guest::virtio
