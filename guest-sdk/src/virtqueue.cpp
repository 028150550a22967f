// Virtqueue (driver side): a split virtqueue of up to 16 entries in the kernel's own memory, for
// polling drivers: add a chain, notify, wait for it to come back.
#include <guest/virtqueue.hpp>

namespace guest::virtio {
namespace {

constexpr uint16_t kDescNext = 1;
constexpr uint16_t kDescWrite = 2;

}  // namespace

void Virtqueue::init() {
  for (uint16_t i = 0; i < kSize; ++i) descriptors_[i].next = static_cast<uint16_t>(i + 1);
  free_head_ = 0;
  free_count_ = kSize;
  initialized_ = true;
}

int Virtqueue::add(const DriverBuffer* buffers, size_t count) {
  if (!initialized_) init();
  if (count == 0 || count > free_count_) return -1;
  const uint16_t head = free_head_;
  uint16_t index = head;
  for (size_t i = 0; i < count; ++i) {
    Descriptor& d = descriptors_[index];
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
  available_.ring[available_.index % kSize] = head;
  // Descriptors and the ring entry before the index (spec 2.7.13): a release store orders them.
  __atomic_store_n(&available_.index, static_cast<uint16_t>(available_.index + 1), __ATOMIC_RELEASE);
  return head;
}

bool Virtqueue::take_used(uint16_t& head, uint32_t& written) {
  const uint16_t published = __atomic_load_n(&used_.index, __ATOMIC_ACQUIRE);
  if (published == last_used_) return false;
  const UsedElement e = used_.ring[last_used_ % kSize];
  ++last_used_;
  head = static_cast<uint16_t>(e.id);
  written = e.length;
  // Put the chain back on the free list.
  uint16_t index = head;
  uint16_t n = 1;
  while ((descriptors_[index].flags & kDescNext) != 0 && n < kSize) {
    index = descriptors_[index].next;
    ++n;
  }
  descriptors_[index].next = free_head_;
  free_head_ = head;
  free_count_ = static_cast<uint16_t>(free_count_ + n);
  return true;
}

uint64_t Virtqueue::descriptor_table() const { return reinterpret_cast<uint64_t>(&descriptors_[0]); }
uint64_t Virtqueue::available_ring() const { return reinterpret_cast<uint64_t>(&available_); }
uint64_t Virtqueue::used_ring() const { return reinterpret_cast<uint64_t>(&used_); }

}  // namespace guest::virtio
