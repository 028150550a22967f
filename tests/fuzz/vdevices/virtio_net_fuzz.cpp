// Fuzz target: virtio-net with hostile guest memory (rings, descriptors, headers, frames) and hostile
// frames arriving from its port. Transmit and receive run until the queues are empty or refused;
// nothing may crash, and no frame larger than the MTU allows may leave the device.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz/support/fuzz_guest.hpp"
#include "memory/guest_memory.hpp"
#include "net/port_frame_backend.hpp"
#include "net/virtio_net.hpp"

namespace {

constexpr std::size_t kFuzzedBytes = 64 * 1024;

}  // namespace

// Input: byte 0 = queue sizes and features; bytes 1-2 = frames the port offers (count, size seed);
// then the first 64 KiB of guest memory (both queues' rings and the buffers they point at).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tilehv::vdevices;
  if (size < 3) return 0;
  auto& memory = tilehv::fuzzing::fuzz_guest_memory();
  auto window = memory.slice(0, kFuzzedBytes);
  std::memset(window->data(), 0, kFuzzedBytes);
  std::memcpy(window->data(), data + 3, std::min(size - 3, kFuzzedBytes));

  auto created = port::PortEndpoint::create(port::PortConfig{65536, 2048});
  if (!created) __builtin_trap();
  auto device_side = port::PortEndpoint::attach(std::move(created->device), port::PortSide::kDevice);
  if (!device_side) __builtin_trap();
  PortFrameBackend backend(std::move(*device_side), "fuzz");
  VirtioNet net(memory, backend, VirtioNetConfig{MacAddress{{2, 0, 0, 0, 0, 1}}, 1500});

  const auto queue_size = static_cast<std::uint16_t>(1U << (data[0] & 0x7));
  const virtio::QueueFeatures features{(data[0] & 0x40) != 0, (data[0] & 0x80) != 0};
  auto rx = virtio::SplitQueue::create({queue_size, 0x0, 0x800, 0x1000}, memory, features);
  auto tx = virtio::SplitQueue::create({queue_size, 0x2000, 0x2800, 0x3000}, memory, features);
  if (!rx || !tx) return 0;
  virtio::ActiveQueues active;
  active.features = virtio::kFeatureVersion1 | ((data[0] & 0x20) != 0 ? kNetFeatureCsum : 0);
  active.queues.push_back(std::move(*rx));
  active.queues.push_back(std::move(*tx));
  active.queue_indices = {0, 1};
  tilehv::fuzzing::NullInterrupt interrupt;
  if (!net.activate(std::move(active), interrupt)) __builtin_trap();

  std::uint8_t frame[2048];
  for (int i = 0; i < (data[1] & 0xf); ++i) {
    const std::size_t length = (std::size_t{data[2]} * 7 + static_cast<std::size_t>(i) * 131) % sizeof frame;
    std::memset(frame, i, length);
    (void)created->plane.send({frame, length});
  }
  (void)net.notify(VirtioNet::kTransmitQueue);
  (void)net.notify(VirtioNet::kReceiveQueue);
  (void)net.backend_ready();
  for (;;) {
    auto got = created->plane.receive(frame);
    if (!got || !got->has_value()) break;
    if (**got > 1500 + kEthernetOverhead) __builtin_trap();
  }
  const DeviceState state = net.save_state();
  VirtioNet restored(memory, backend, net.config());
  (void)restored.restore_state(state);
  return 0;
}
