// Fuzz target: a hostile driver drives the console device's control and data queues over guest memory
// it controls, while the host side sends, drains, saves, restores and resets. Nothing may crash, hang
// or hand out a buffer outside RAM; a refused queue is followed by a reset, as the transport does; a
// saved state always restores and saves the same again; a mutated state is refused or accepted whole.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz/support/fuzz_guest.hpp"
#include "console/buffer_backend.hpp"
#include "console/virtio_console.hpp"
#include "memory/guest_memory.hpp"

namespace {

using namespace tilehv::vdevices;

// Eight queues (three ports), each in a 4 KiB slot of the fuzzed image: descriptor table at +0, available
// ring at +0x400, used ring at +0x800, and room for the driver's buffers from +0xc00.
constexpr std::size_t kQueues = 8;
constexpr std::uint64_t kSlot = 0x1000;
constexpr std::size_t kImage = kQueues * kSlot;

struct Rig {
  BufferBackend console{64};
  BufferBackend echo{16};  // small: the guest's writes meet back-pressure
  BufferBackend log{64};
  BufferBackend* backends[3] = {&console, &echo, &log};
  tilehv::fuzzing::NullInterrupt interrupt;

  std::unique_ptr<VirtioConsole> make() {
    auto device = VirtioConsole::create(tilehv::fuzzing::fuzz_guest_memory(), {{"console", true, &console}, {"echo", false, &echo},
                                                          {"log", false, &log}});
    if (!device) __builtin_trap();
    return std::move(*device);
  }
};

void activate(VirtioConsole& device, std::uint64_t features, std::uint16_t size, tilehv::fuzzing::NullInterrupt& interrupt) {
  virtio::ActiveQueues active;
  active.features = features;
  const virtio::QueueFeatures qf{(features & virtio::kFeatureIndirectDesc) != 0,
                                 (features & virtio::kFeatureEventIdx) != 0};
  for (std::uint16_t q = 0; q < kQueues; ++q) {
    const virtio::QueueLayout layout{size, q * kSlot, q * kSlot + 0x400, q * kSlot + 0x800};
    auto queue = virtio::SplitQueue::create(layout, tilehv::fuzzing::fuzz_guest_memory(), qf);
    if (!queue) __builtin_trap();  // fixed, aligned rings inside RAM: always valid
    active.queues.push_back(std::move(*queue));
    active.queue_indices.push_back(q);
  }
  if (!device.activate(std::move(active), interrupt)) __builtin_trap();  // the control queues are there
}

}  // namespace

// Input: byte 0 = features (bit 0 MULTIPORT, 1 INDIRECT_DESC, 2 EVENT_IDX) and log2 of the queue size
// (bits 3-5, at most 32 entries); then the 32 KiB image of guest memory at 0 (zero-padded); then
// operations of 4 bytes [op][a][b][c]:
//   0 notify queue a; 1 host sends b bytes (value c) on port a; 2 host drains up to b bytes of port a;
//   3 save and restore into a fresh device; 4 reset and activate again; 5 the guest pokes byte c at
//   offset a|b<<8 of the image; 6 restore a copy of the state with byte a|b<<8 set to c into a scratch device.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  auto& memory = tilehv::fuzzing::fuzz_guest_memory();
  auto window = memory.slice(0, kImage);
  std::memset(window->data(), 0, kImage);
  const std::size_t image = std::min(size - 1, kImage);
  std::memcpy(window->data(), data + 1, image);

  std::uint64_t features = virtio::kFeatureVersion1;
  if ((data[0] & 1) != 0) features |= kFeatureConsoleMultiport;
  if ((data[0] & 2) != 0) features |= virtio::kFeatureIndirectDesc;
  if ((data[0] & 4) != 0) features |= virtio::kFeatureEventIdx;
  const auto queue_size = static_cast<std::uint16_t>(1U << std::min((data[0] >> 3) & 7, 5));

  Rig rig;
  std::unique_ptr<VirtioConsole> device = rig.make();
  activate(*device, features, queue_size, rig.interrupt);

  for (std::size_t pos = 1 + kImage; pos + 4 <= size; pos += 4) {
    const std::uint8_t op = data[pos] % 7, a = data[pos + 1], b = data[pos + 2], c = data[pos + 3];
    const std::size_t offset = std::size_t{a} | (std::size_t{b} << 8);
    switch (op) {
      case 0:
        if (!device->notify(static_cast<std::uint16_t>(a % kQueues))) {
          // The transport's DEVICE_NEEDS_RESET path, then a driver that starts over.
          device->reset();
          activate(*device, features, queue_size, rig.interrupt);
        }
        break;
      case 1: {
        const std::vector<std::uint8_t> bytes(b, c);
        (void)rig.backends[a % 3]->send(bytes);
        break;
      }
      case 2: {
        std::vector<std::uint8_t> out(b);
        (void)rig.backends[a % 3]->receive(out);
        break;
      }
      case 3: {
        const DeviceState saved = device->save_state();
        std::unique_ptr<VirtioConsole> restored = rig.make();
        if (!restored->restore_state(saved)) __builtin_trap();
        if (restored->save_state().payload != saved.payload) __builtin_trap();
        restored->reattach(rig.interrupt);
        device = std::move(restored);
        break;
      }
      case 4:
        device->reset();
        activate(*device, features, queue_size, rig.interrupt);
        break;
      case 5:
        (*window)[offset % kImage] = c;
        break;
      case 6: {
        DeviceState mutated = device->save_state();
        if (mutated.payload.empty()) break;
        mutated.payload[offset % mutated.payload.size()] = c;
        std::unique_ptr<VirtioConsole> scratch = rig.make();
        const DeviceState before = scratch->save_state();
        if (!scratch->restore_state(mutated)) {
          if (scratch->save_state().payload != before.payload) __builtin_trap();  // a refusal changes nothing
        } else if (scratch->save_state().payload != mutated.payload) {
          __builtin_trap();  // accepted records round-trip exactly
        }
        break;
      }
      default:
        break;
    }
  }
  return 0;
}
