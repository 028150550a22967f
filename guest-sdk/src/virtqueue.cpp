// Virtqueue (driver side): a split virtqueue (virtio 1.2 spec 2.7) in the kernel's own memory.
#include <guest/virtqueue.hpp>

namespace guest::virtio {
namespace {

constexpr uint16_t kDescNext = 1;
constexpr uint16_t kDescWrite = 2;
constexpr uint16_t kAvailNoInterrupt = 1;  // spec 2.7.6
constexpr uint16_t kUsedNoNotify = 1;      // spec 2.7.8

}  // namespace

// Lazily, so a queue that is a global needs no constructor work beyond its addresses.
void VirtqueueBase::init() {
  for (uint16_t i = 0; i < size_; ++i) storage_.descriptors[i].next = static_cast<uint16_t>(i + 1);
  free_head_ = 0;
  free_count_ = size_;
  initialized_ = true;
}

bool VirtqueueBase::shrink(uint16_t size) {
  if (initialized_ || size == 0 || size > capacity_ || (size & (size - 1)) != 0) return false;
  size_ = size;
  free_count_ = size;
  return true;
}

uint16_t VirtqueueBase::free_descriptors() const { return initialized_ ? free_count_ : size_; }

int VirtqueueBase::add(const DriverBuffer* buffers, size_t count) {
  if (!initialized_) init();
  if (count == 0 || count > free_count_) return -1;
  const uint16_t head = free_head_;
  uint16_t index = head;
  for (size_t i = 0; i < count; ++i) {
    RingDescriptor& d = storage_.descriptors[index];
    d.address = reinterpret_cast<uint64_t>(buffers[i].address);
    d.length = buffers[i].length;
    const bool last = i + 1 == count;
    d.flags = static_cast<uint16_t>((last ? 0 : kDescNext) | (buffers[i].device_writable ? kDescWrite : 0));
    if (last) {
      free_head_ = d.next;  // the rest of the free list
    } else {
      index = d.next;
    }
  }
  free_count_ = static_cast<uint16_t>(free_count_ - count);
  const uint16_t published = *storage_.available_index;
  storage_.available_ring[published & (size_ - 1)] = head;
  // Descriptors and the ring entry before the index (spec 2.7.13): a release store orders them.
  __atomic_store_n(storage_.available_index, static_cast<uint16_t>(published + 1), __ATOMIC_RELEASE);
  return head;
}

bool VirtqueueBase::has_used() const { return __atomic_load_n(storage_.used_index, __ATOMIC_ACQUIRE) != last_used_; }

bool VirtqueueBase::take_used(uint16_t& head, uint32_t& written) {
  for (;;) {
    const uint16_t published = __atomic_load_n(storage_.used_index, __ATOMIC_ACQUIRE);
    if (published == last_used_) return false;
    const RingUsedElement e = storage_.used_ring[last_used_ & (size_ - 1)];
    ++last_used_;
    if (e.id >= size_) {
      ++bad_used_;  // a device bug; the chain it meant is lost rather than a wild index followed
      continue;
    }
    head = static_cast<uint16_t>(e.id);
    written = e.length;
    // Put the chain back on the free list; the walk is bounded by the queue size, whatever the
    // descriptors say.
    uint16_t index = head;
    uint16_t n = 1;
    while ((storage_.descriptors[index].flags & kDescNext) != 0 && n < size_) {
      index = storage_.descriptors[index].next;
      if (index >= size_) break;
      ++n;
    }
    if (index >= size_) {
      ++bad_used_;
      continue;
    }
    storage_.descriptors[index].next = free_head_;
    free_head_ = head;
    free_count_ = static_cast<uint16_t>(free_count_ + n);
    return true;
  }
}

bool VirtqueueBase::notification_wanted() const {
  // The index store must be visible before the flags are read (spec 2.7.10): a full fence, or the
  // device could set NO_NOTIFY, miss the new buffer and go to sleep.
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  return (__atomic_load_n(storage_.used_flags, __ATOMIC_RELAXED) & kUsedNoNotify) == 0;
}

void VirtqueueBase::set_interrupts(bool enabled) {
  __atomic_store_n(storage_.available_flags, static_cast<uint16_t>(enabled ? 0 : kAvailNoInterrupt), __ATOMIC_RELAXED);
  // As above: a waiter re-checks the used ring after this, and the device must see the flag first.
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

uint64_t VirtqueueBase::descriptor_table() const { return reinterpret_cast<uint64_t>(storage_.descriptors); }
uint64_t VirtqueueBase::available_ring() const { return reinterpret_cast<uint64_t>(storage_.available_flags); }
uint64_t VirtqueueBase::used_ring() const { return reinterpret_cast<uint64_t>(storage_.used_flags); }

}  // namespace guest::virtio
