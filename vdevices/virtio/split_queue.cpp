// SplitQueue: the device side of a virtio 1.2 split virtqueue (spec 2.7), with every guest-supplied
// address, length, index, flag and chain checked before use.
#include "virtio/split_queue.hpp"

#include <atomic>
#include <cstring>

#include <fmt/format.h>

namespace tilehv::vdevices::virtio {
namespace {

// Spec 2.7.5: struct virtq_desc.
struct [[gnu::packed]] Descriptor {
  std::uint64_t address;
  std::uint32_t length;
  std::uint16_t flags;
  std::uint16_t next;
};
static_assert(sizeof(Descriptor) == 16);

constexpr std::uint16_t kDescNext = 1;      // VRING_DESC_F_NEXT
constexpr std::uint16_t kDescWrite = 2;     // VRING_DESC_F_WRITE
constexpr std::uint16_t kDescIndirect = 4;  // VRING_DESC_F_INDIRECT
constexpr std::uint16_t kAvailNoInterrupt = 1;  // VRING_AVAIL_F_NO_INTERRUPT
constexpr std::uint16_t kUsedNoNotify = 1;      // VRING_USED_F_NO_NOTIFY

constexpr std::uint64_t descriptor_table_bytes(std::uint16_t size) { return 16ULL * size; }
constexpr std::uint64_t available_ring_bytes(std::uint16_t size) { return 6 + 2ULL * size; }
constexpr std::uint64_t used_ring_bytes(std::uint16_t size) { return 6 + 8ULL * size; }

QueueError error(QueueErrc code, std::string message) { return QueueError{code, std::move(message)}; }

}  // namespace

tl::expected<SplitQueue, QueueError> SplitQueue::create(const QueueLayout& layout, const memory::GuestMemory& memory,
                                                       QueueFeatures features) {
  const std::uint16_t n = layout.size;
  if (n == 0 || n > kMaxQueueSize || (n & (n - 1)) != 0) {
    return tl::unexpected(error(QueueErrc::kBadLayout, fmt::format("queue size {} is not a power of 2 up to {}", n, kMaxQueueSize)));
  }
  struct Ring {
    const char* name;
    std::uint64_t address, bytes, alignment;
  };
  const Ring rings[] = {{"descriptor table", layout.descriptor_table, descriptor_table_bytes(n), 16},
                        {"available ring", layout.available_ring, available_ring_bytes(n), 2},
                        {"used ring", layout.used_ring, used_ring_bytes(n), 4}};
  for (const Ring& r : rings) {
    if (r.address % r.alignment != 0) {
      return tl::unexpected(error(QueueErrc::kBadLayout,
                                  fmt::format("{} at {:#x} is not {}-byte aligned", r.name, r.address, r.alignment)));
    }
    if (!memory.contains(r.address, r.bytes)) {
      return tl::unexpected(error(QueueErrc::kBadLayout, fmt::format("{} [{:#x}, +{:#x}) is not inside guest RAM",
                                                                     r.name, r.address, r.bytes)));
    }
  }
  return SplitQueue(layout, memory, features);
}

tl::expected<std::uint16_t, QueueError> SplitQueue::read_u16(std::uint64_t address) const {
  auto v = memory_->read_object<std::uint16_t>(address);
  if (!v) return tl::unexpected(error(QueueErrc::kRingOutsideRam, v.error().describe()));
  return *v;
}

tl::expected<void, QueueError> SplitQueue::write_u16(std::uint64_t address, std::uint16_t value) const {
  auto w = memory_->write_object(address, value);
  if (!w) return tl::unexpected(error(QueueErrc::kRingOutsideRam, w.error().describe()));
  return {};
}

tl::expected<std::optional<DescriptorChain>, QueueError> SplitQueue::pop() {
  auto avail_idx = read_u16(layout_.available_ring + 2);
  if (!avail_idx) return tl::unexpected(avail_idx.error());
  const auto pending = static_cast<std::uint16_t>(*avail_idx - next_avail_);
  if (pending == 0) return std::optional<DescriptorChain>{};
  if (pending > layout_.size) {
    return tl::unexpected(error(QueueErrc::kAvailIndexJump,
                                fmt::format("available index moved from {} to {}: {} new buffers in a queue of {}",
                                            next_avail_, *avail_idx, pending, layout_.size)));
  }
  // The driver writes the ring entry and descriptors before the index (spec 2.7.13.3): read them after.
  std::atomic_thread_fence(std::memory_order_acquire);
  const std::uint64_t slot = next_avail_ % layout_.size;
  auto head = read_u16(layout_.available_ring + 4 + 2 * slot);
  if (!head) return tl::unexpected(head.error());
  if (*head >= layout_.size) {
    return tl::unexpected(error(QueueErrc::kHeadOutOfRange,
                                fmt::format("available ring slot {} names descriptor {} of a queue of {}", slot, *head,
                                            layout_.size)));
  }
  auto chain = walk(*head);
  if (!chain) return tl::unexpected(chain.error());
  ++next_avail_;
  return std::optional<DescriptorChain>(std::move(*chain));
}

tl::expected<DescriptorChain, QueueError> SplitQueue::walk(std::uint16_t head) const {
  DescriptorChain chain;
  chain.head = head;
  std::uint64_t table = layout_.descriptor_table;
  std::uint32_t table_size = layout_.size;
  bool indirect = false;
  bool seen_writable = false;
  std::uint32_t index = head;
  std::uint32_t walked = 0;  // descriptors read from the current table
  for (;;) {
    // A chain visits each descriptor of its table at most once; more means a loop (spec 2.7.5.3.1:
    // no chain longer than the queue, no indirect table longer than its length).
    if (++walked > table_size) {
      return tl::unexpected(error(QueueErrc::kChainTooLong,
                                  fmt::format("chain from head {} is longer than its {} table of {} descriptors (a loop?)",
                                              head, indirect ? "indirect" : "descriptor", table_size)));
    }
    // Read once into a local: the guest may change the table while we look at it.
    auto read = memory_->read_object<Descriptor>(table + 16ULL * index);
    if (!read) return tl::unexpected(error(QueueErrc::kRingOutsideRam, read.error().describe()));
    const Descriptor d = *read;

    if ((d.flags & kDescIndirect) != 0) {
      if (!features_.indirect_descriptors) {
        return tl::unexpected(error(QueueErrc::kBadIndirect,
                                    fmt::format("descriptor {} is indirect, but indirect descriptors were not negotiated", index)));
      }
      if (indirect) {
        return tl::unexpected(error(QueueErrc::kBadIndirect, fmt::format("indirect table entry {} is itself indirect", index)));
      }
      if ((d.flags & kDescNext) != 0) {
        return tl::unexpected(error(QueueErrc::kBadIndirect, fmt::format("indirect descriptor {} also has NEXT set", index)));
      }
      if (d.length == 0 || d.length % 16 != 0 || d.length / 16 > kMaxIndirectDescriptors) {
        return tl::unexpected(error(QueueErrc::kBadIndirect,
                                    fmt::format("indirect table of {} bytes: not a multiple of 16 between 16 and {}",
                                                d.length, 16 * kMaxIndirectDescriptors)));
      }
      if (!memory_->contains(d.address, d.length)) {
        return tl::unexpected(error(QueueErrc::kBadIndirect,
                                    fmt::format("indirect table [{:#x}, +{:#x}) is not inside guest RAM", d.address, d.length)));
      }
      table = d.address;
      table_size = d.length / 16;
      indirect = true;
      index = 0;
      walked = 0;
      continue;
    }

    const bool writable = (d.flags & kDescWrite) != 0;
    if (!writable && seen_writable) {
      return tl::unexpected(error(QueueErrc::kReadableAfterWritable,
                                  fmt::format("device-readable descriptor {} follows a device-writable one", index)));
    }
    seen_writable = seen_writable || writable;
    if (d.length > 0) {
      if (!memory_->contains(d.address, d.length)) {
        return tl::unexpected(error(QueueErrc::kBufferOutsideRam,
                                    fmt::format("descriptor {} buffer [{:#x}, +{:#x}) is not inside guest RAM", index,
                                                d.address, d.length)));
      }
      chain.buffers.push_back(Buffer{d.address, d.length, writable});
      (writable ? chain.writable_bytes : chain.readable_bytes) += d.length;
    }
    if ((d.flags & kDescNext) == 0) break;
    if (d.next >= table_size) {
      return tl::unexpected(error(QueueErrc::kNextOutOfRange,
                                  fmt::format("descriptor {} continues to {}, beyond its table of {}", index, d.next, table_size)));
    }
    index = d.next;
  }
  return chain;
}

tl::expected<void, QueueError> SplitQueue::push_used(std::uint16_t head, std::uint32_t written) {
  if (head >= layout_.size) {
    return tl::unexpected(error(QueueErrc::kBadUsedHead, fmt::format("used head {} beyond a queue of {}", head, layout_.size)));
  }
  const std::uint64_t element = layout_.used_ring + 4 + 8ULL * (next_used_ % layout_.size);
  const std::uint32_t entry[2] = {head, written};
  auto w = memory_->write(element, {reinterpret_cast<const std::uint8_t*>(entry), sizeof entry});
  if (!w) return tl::unexpected(error(QueueErrc::kRingOutsideRam, w.error().describe()));
  // The element must be visible before the index that publishes it (spec 2.7.8).
  std::atomic_thread_fence(std::memory_order_release);
  ++next_used_;
  return write_u16(layout_.used_ring + 2, next_used_);
}

tl::expected<bool, QueueError> SplitQueue::needs_interrupt() {
  // The used index we published must be ordered before reading what the driver asked for.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (features_.event_index) {
    auto used_event = read_u16(layout_.available_ring + 4 + 2ULL * layout_.size);
    if (!used_event) return tl::unexpected(used_event.error());
    const std::uint16_t old = signalled_used_;
    const bool first = !signalled_valid_;
    signalled_used_ = next_used_;
    signalled_valid_ = true;
    // vring_need_event(): interrupt if used_event lies in (old, new].
    return first || static_cast<std::uint16_t>(next_used_ - *used_event - 1) < static_cast<std::uint16_t>(next_used_ - old);
  }
  auto flags = read_u16(layout_.available_ring);
  if (!flags) return tl::unexpected(flags.error());
  return (*flags & kAvailNoInterrupt) == 0;
}

tl::expected<void, QueueError> SplitQueue::set_notifications(bool enabled) {
  if (features_.event_index) {
    // avail_event: notify when the available index passes the one we will read next.
    if (!enabled) return {};
    return write_u16(layout_.used_ring + 4 + 8ULL * layout_.size, next_avail_);
  }
  return write_u16(layout_.used_ring, enabled ? 0 : kUsedNoNotify);
}

void SplitQueue::save(StateWriter& out) const {
  out.u16(layout_.size);
  out.u64(layout_.descriptor_table);
  out.u64(layout_.available_ring);
  out.u64(layout_.used_ring);
  out.boolean(features_.indirect_descriptors);
  out.boolean(features_.event_index);
  out.u16(next_avail_);
  out.u16(next_used_);
  out.u16(signalled_used_);
  out.boolean(signalled_valid_);
}

tl::expected<SplitQueue, QueueError> SplitQueue::restore(StateReader& in, const memory::GuestMemory& memory) {
  const auto bad = [](const StateError& e) { return tl::unexpected(error(QueueErrc::kBadLayout, "queue state: " + e.message)); };
  QueueLayout layout;
  QueueFeatures features;
  auto size = in.u16();
  if (!size) return bad(size.error());
  layout.size = *size;
  for (std::uint64_t* field : {&layout.descriptor_table, &layout.available_ring, &layout.used_ring}) {
    auto v = in.u64();
    if (!v) return bad(v.error());
    *field = *v;
  }
  for (bool* field : {&features.indirect_descriptors, &features.event_index}) {
    auto v = in.boolean();
    if (!v) return bad(v.error());
    *field = *v;
  }
  std::uint16_t indices[3] = {};
  for (auto& index : indices) {
    auto v = in.u16();
    if (!v) return bad(v.error());
    index = *v;
  }
  auto valid = in.boolean();
  if (!valid) return bad(valid.error());
  auto queue = create(layout, memory, features);
  if (!queue) return queue;
  if (static_cast<std::uint16_t>(indices[0] - indices[1]) > layout.size) {
    return tl::unexpected(error(QueueErrc::kBadLayout, fmt::format("queue state: {} buffers in flight in a queue of {}",
                                                                   static_cast<std::uint16_t>(indices[0] - indices[1]), layout.size)));
  }
  queue->next_avail_ = indices[0];
  queue->next_used_ = indices[1];
  queue->signalled_used_ = indices[2];
  queue->signalled_valid_ = *valid;
  return queue;
}

}  // namespace tilehv::vdevices::virtio
