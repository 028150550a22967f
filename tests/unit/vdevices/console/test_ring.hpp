// TestRing: the driver side of one split queue for the console tests: a free list of descriptors,
// the buffers of each chain, and the used chains the device returned.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "memory/guest_memory.hpp"
#include "virtio/split_queue.hpp"

namespace tilehv::testing {

struct TestBuffer {
  std::uint64_t address;
  std::uint32_t length;
  bool writable;
};

class TestRing {
 public:
  TestRing(const memory::GuestMemory& memory, std::uint64_t base, std::uint16_t size)
      : memory_(memory), base_(base), size_(size), free_(size, true) {}

  [[nodiscard]] vdevices::virtio::QueueLayout layout() const {
    return {size_, base_, base_ + 16ULL * size_, base_ + 0x4000};
  }

  void write_descriptor(std::uint16_t index, std::uint64_t address, std::uint32_t length, std::uint16_t flags,
                        std::uint16_t next) const {
    std::uint8_t raw[16];
    std::memcpy(raw, &address, 8);
    std::memcpy(raw + 8, &length, 4);
    std::memcpy(raw + 12, &flags, 2);
    std::memcpy(raw + 14, &next, 2);
    (void)memory_.write(layout().descriptor_table + 16ULL * index, raw);
  }

  // Places a chain on free descriptors and makes it available; returns its head (-1: no room).
  int add(const std::vector<TestBuffer>& buffers) {
    std::vector<std::uint16_t> picked;
    for (std::uint16_t i = 0; i < size_ && picked.size() < buffers.size(); ++i) {
      if (free_[i]) picked.push_back(i);
    }
    if (picked.size() < buffers.size() || buffers.empty()) return -1;
    for (std::size_t i = 0; i < buffers.size(); ++i) {
      const bool last = i + 1 == buffers.size();
      write_descriptor(picked[i], buffers[i].address, buffers[i].length,
                       static_cast<std::uint16_t>((last ? 0 : 1) | (buffers[i].writable ? 2 : 0)),
                       last ? 0 : picked[i + 1]);
      free_[picked[i]] = false;
    }
    chains_[picked[0]] = {buffers, picked};
    make_available(picked[0]);
    return picked[0];
  }

  void make_available(std::uint16_t head) {
    const auto avail = layout().available_ring;
    write_u16(avail + 4 + 2ULL * (avail_idx_ % size_), head);
    ++avail_idx_;
    write_u16(avail + 2, avail_idx_);
  }

  struct Used {
    std::uint32_t head;
    std::uint32_t written;
    std::vector<TestBuffer> buffers;
  };
  // The chains the device returned since the last call; their descriptors become free.
  std::vector<Used> take_used() {
    std::vector<Used> out;
    const std::uint16_t published = read_u16(layout().used_ring + 2);
    for (; last_used_ != published; ++last_used_) {
      std::uint32_t e[2] = {};
      (void)memory_.read(layout().used_ring + 4 + 8ULL * (last_used_ % size_), {reinterpret_cast<std::uint8_t*>(e), 8});
      Used u{e[0], e[1], {}};
      if (auto it = chains_.find(static_cast<std::uint16_t>(e[0])); it != chains_.end()) {
        u.buffers = it->second.buffers;
        for (std::uint16_t d : it->second.descriptors) free_[d] = true;
        chains_.erase(it);
      }
      out.push_back(std::move(u));
    }
    return out;
  }

  [[nodiscard]] std::uint16_t used_index() const { return read_u16(layout().used_ring + 2); }
  [[nodiscard]] std::uint16_t avail_event() const { return read_u16(layout().used_ring + 4 + 8ULL * size_); }
  void set_used_event(std::uint16_t value) const { write_u16(layout().available_ring + 4 + 2ULL * size_, value); }
  [[nodiscard]] std::size_t outstanding() const { return chains_.size(); }

 private:
  struct Chain {
    std::vector<TestBuffer> buffers;
    std::vector<std::uint16_t> descriptors;
  };
  void write_u16(std::uint64_t a, std::uint16_t v) const { (void)memory_.write_object(a, v); }
  [[nodiscard]] std::uint16_t read_u16(std::uint64_t a) const {
    auto v = memory_.read_object<std::uint16_t>(a);
    return v ? *v : 0xdead;
  }

  const memory::GuestMemory& memory_;
  std::uint64_t base_;
  std::uint16_t size_;
  std::vector<bool> free_;
  std::map<std::uint16_t, Chain> chains_;
  std::uint16_t avail_idx_ = 0;
  std::uint16_t last_used_ = 0;
};

}  // namespace tilehv::testing
