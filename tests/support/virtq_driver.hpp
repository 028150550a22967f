// VirtqDriver: the driver side of a split virtqueue for tests: it writes descriptors and rings into
// real guest memory the way a guest driver does, including the ways a hostile one can.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "memory/guest_memory.hpp"
#include "virtio/split_queue.hpp"

namespace tilehv::testing {

struct DriverBuffer {
  std::uint64_t address;
  std::uint32_t length;
  bool writable;
};

class VirtqDriver {
 public:
  // Rings at fixed, properly aligned addresses below 1 MiB; buffers elsewhere.
  // `offset` moves the rings, for devices with several queues.
  VirtqDriver(const memory::GuestMemory& memory, std::uint16_t size, std::uint64_t offset = 0)
      : memory_(memory), size_(size), desc_(kDesc + offset), avail_(kAvail + offset), used_(kUsed + offset) {}

  [[nodiscard]] vdevices::virtio::QueueLayout layout() const { return {size_, desc_, avail_, used_}; }

  // Writes a descriptor into the main table (or any table at `table`).
  void write_descriptor(std::uint16_t index, std::uint64_t address, std::uint32_t length, std::uint16_t flags,
                        std::uint16_t next, std::uint64_t table = kMainTable) const {
    if (table == kMainTable) table = desc_;
    std::uint8_t raw[16];
    std::memcpy(raw, &address, 8);
    std::memcpy(raw + 8, &length, 4);
    std::memcpy(raw + 12, &flags, 2);
    std::memcpy(raw + 14, &next, 2);
    (void)memory_.write(table + 16ULL * index, raw);
  }

  // Places a chain at consecutive descriptors from `first` and makes it available. Returns the head.
  std::uint16_t add_chain(const std::vector<DriverBuffer>& buffers, std::uint16_t first) {
    for (std::size_t i = 0; i < buffers.size(); ++i) {
      const auto index = static_cast<std::uint16_t>(first + i);
      const bool last = i + 1 == buffers.size();
      write_descriptor(index, buffers[i].address, buffers[i].length,
                       static_cast<std::uint16_t>((last ? 0 : 1) | (buffers[i].writable ? 2 : 0)),
                       static_cast<std::uint16_t>(last ? 0 : index + 1));
    }
    make_available(first);
    return first;
  }

  // Appends `head` to the available ring and publishes the new index.
  void make_available(std::uint16_t head) {
    write_u16(avail_ + 4 + 2ULL * (avail_idx_ % size_), head);
    ++avail_idx_;
    write_u16(avail_ + 2, avail_idx_);
  }

  void set_avail_index(std::uint16_t value) {
    avail_idx_ = value;
    write_u16(avail_ + 2, value);
  }
  void set_avail_flags(std::uint16_t flags) const { write_u16(avail_, flags); }
  void set_used_event(std::uint16_t value) const { write_u16(avail_ + 4 + 2ULL * size_, value); }

  [[nodiscard]] std::uint16_t used_index() const { return read_u16(used_ + 2); }
  [[nodiscard]] std::uint16_t used_flags() const { return read_u16(used_); }
  [[nodiscard]] std::uint16_t avail_event() const { return read_u16(used_ + 4 + 8ULL * size_); }
  void tamper_used_index(std::uint16_t value) const { write_u16(used_ + 2, value); }
  // The used element at ring position `slot`: {id, len}.
  [[nodiscard]] std::pair<std::uint32_t, std::uint32_t> used_element(std::uint16_t slot) const {
    std::uint32_t e[2] = {};
    (void)memory_.read(used_ + 4 + 8ULL * (slot % size_), {reinterpret_cast<std::uint8_t*>(e), sizeof e});
    return {e[0], e[1]};
  }

  static constexpr std::uint64_t kMainTable = ~0ULL;
  static constexpr std::uint64_t kDesc = 0x10000;
  static constexpr std::uint64_t kAvail = 0x90000;
  static constexpr std::uint64_t kUsed = 0xa0000;
  static constexpr std::uint64_t kBuffers = 0x200000;

 private:
  void write_u16(std::uint64_t address, std::uint16_t value) const { (void)memory_.write_object(address, value); }
  [[nodiscard]] std::uint16_t read_u16(std::uint64_t address) const {
    auto v = memory_.read_object<std::uint16_t>(address);
    return v ? *v : 0xdead;
  }

  const memory::GuestMemory& memory_;
  std::uint16_t size_;
  std::uint16_t avail_idx_ = 0;
  std::uint64_t desc_, avail_, used_;
};

}  // namespace tilehv::testing
