// Fuzz target: a split virtqueue whose rings, descriptors and indirect tables are hostile bytes. The
// device pops and completes until the queue is empty or refused; nothing may crash, hang or loop.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz/support/fuzz_guest.hpp"
#include "memory/guest_memory.hpp"
#include "virtio/split_queue.hpp"

namespace {

// Guest RAM is 4 MiB; the fuzzer's bytes fill the first 64 KiB, where the rings live, so descriptors
// can point anywhere: at the rings, at each other, past the end of RAM.
constexpr std::size_t kFuzzedBytes = 64 * 1024;

}  // namespace

// Input: byte 0 = log2(queue size) and feature bits, then the first 64 KiB of guest memory.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tilehv::vdevices::virtio;
  if (size < 1) return 0;
  auto& memory = tilehv::fuzzing::fuzz_guest_memory();
  auto window = memory.slice(0, kFuzzedBytes);
  std::memset(window->data(), 0, kFuzzedBytes);
  std::memcpy(window->data(), data + 1, std::min(size - 1, kFuzzedBytes));

  const auto queue_size = static_cast<std::uint16_t>(1U << (data[0] & 0x7));  // 1..128
  const QueueLayout layout{queue_size, 0x0, 0x800, 0x1000};
  const QueueFeatures features{(data[0] & 0x40) != 0, (data[0] & 0x80) != 0};
  auto queue = SplitQueue::create(layout, memory, features);
  if (!queue) return 0;
  // At most one queue's worth plus one: a correct walker never returns more chains than the driver
  // made available, and the available index can announce at most queue_size.
  for (int i = 0; i <= queue_size; ++i) {
    auto chain = queue->pop();
    if (!chain || !chain->has_value()) break;
    for (const Buffer& b : (*chain)->buffers) {
      // Every buffer the walker hands out must be reachable: that is its contract.
      if (!memory.contains(b.address, b.length)) __builtin_trap();
    }
    if (!queue->push_used((*chain)->head, static_cast<std::uint32_t>((*chain)->writable_bytes))) __builtin_trap();
    (void)queue->needs_interrupt();
  }
  return 0;
}
