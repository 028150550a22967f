// Fuzz target: virtio-vsock with hostile guest memory and the tile's channel router judging every
// packet the guest manages to send. Nothing may crash; every packet the router delivers must be
// well-formed and from the guest's own CID.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz/support/fuzz_guest.hpp"
#include "ioplane/channel_router.hpp"
#include "memory/guest_memory.hpp"
#include "vsock/virtio_vsock.hpp"

namespace {

constexpr std::size_t kFuzzedBytes = 64 * 1024;

}  // namespace

// Input: byte 0 = queue size and features, then the first 64 KiB of guest memory.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tilehv::vdevices;
  if (size < 1) return 0;
  auto& memory = tilehv::fuzzing::fuzz_guest_memory();
  auto window = memory.slice(0, kFuzzedBytes);
  std::memset(window->data(), 0, kFuzzedBytes);
  std::memcpy(window->data(), data + 1, std::min(size - 1, kFuzzedBytes));

  auto created = port::PortEndpoint::create(VirtioVsock::kPortConfig);
  if (!created) __builtin_trap();
  auto device_side = port::PortEndpoint::attach(std::move(created->device), port::PortSide::kDevice);
  if (!device_side) __builtin_trap();
  VirtioVsock device(memory, *device_side, 3);
  const auto queue_size = static_cast<std::uint16_t>(1U << (data[0] & 0x7));
  const virtio::QueueFeatures features{(data[0] & 0x40) != 0, (data[0] & 0x80) != 0};
  auto rx = virtio::SplitQueue::create({queue_size, 0x0, 0x800, 0x1000}, memory, features);
  auto tx = virtio::SplitQueue::create({queue_size, 0x2000, 0x2800, 0x3000}, memory, features);
  if (!rx || !tx) return 0;
  virtio::ActiveQueues active;
  active.features = virtio::kFeatureVersion1;
  active.queues.push_back(std::move(*rx));
  active.queues.push_back(std::move(*tx));
  active.queue_indices = {0, 1};
  tilehv::fuzzing::NullInterrupt interrupt;
  if (!device.activate(std::move(active), interrupt)) __builtin_trap();
  (void)device.notify(VirtioVsock::kTransmitQueue);

  tilehv::ioplane::ChannelRouter router({{"guest", "peer", 5000}});
  const auto guest = router.add_endpoint("guest", 3);
  const auto peer = router.add_endpoint("peer", 4);
  if (!guest || !peer) __builtin_trap();
  static std::uint8_t packet[vsock::kHeaderBytes + vsock::kMaxPayload];
  for (;;) {
    auto got = created->plane.receive(packet);
    if (!got || !got->has_value()) break;
    const std::span<const std::uint8_t> p(packet, **got);
    const auto decision = router.route(*guest, p);
    if (decision.kind == tilehv::ioplane::RouteDecision::Kind::kDeliver) {
      if (vsock::check_packet(p) || vsock::read_header(p).src_cid != 3 || decision.to != *peer) __builtin_trap();
    }
    // Whatever the router decided, the answer can go back to the guest.
    (void)created->plane.send(p);
  }
  (void)device.port_ready();
  return 0;
}
