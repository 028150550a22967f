// rng: finds the virtio entropy device announced on the command line, reads requests=N (default 8)
// buffers of 64 bytes from it by polling, and prints their FNV-1a 64 hash; exits 0, or 1 with the
// reason when there is no device or it misbehaves.
#include <guest/checksum.hpp>
#include <guest/kernel.hpp>
#include <guest/virtio_mmio.hpp>
#include <guest/virtqueue.hpp>

using namespace guest;

namespace {

constexpr uint32_t kEntropyDeviceId = 4;
constexpr size_t kRequestBytes = 64;

virtio::Virtqueue queue;
alignas(64) uint8_t buffer[kRequestBytes];

}  // namespace

int kernel_main() {
  virtio::MmioDeviceInfo info{};
  size_t index = 0;
  if (!virtio::find_device(kEntropyDeviceId, info, index)) {
    print("rng: no virtio entropy device announced\n");
    return 1;
  }
  virtio::MmioDevice device(info);
  if (!device.begin_init(0) || !device.setup_queue(0, queue) || !device.finish_init()) {
    print("rng: device at {:#x} refused initialization (status {:#x})\n", info.base, device.status());
    return 1;
  }
  const uint64_t requests = cmdline::get_u64("requests", 8);
  uint64_t hash = 0xcbf29ce484222325ULL;
  uint64_t total = 0;
  for (uint64_t r = 0; r < requests; ++r) {
    const virtio::DriverBuffer b{buffer, kRequestBytes, true};
    if (queue.add(&b, 1) < 0) return 1;
    device.notify(0);
    uint16_t head = 0;
    uint32_t written = 0;
    const time::Deadline deadline = time::Deadline::after_ns(1'000'000'000);
    while (!queue.take_used(head, written)) {
      if (deadline.expired()) {
        print("rng: no answer within 1 s (status {:#x})\n", device.status());
        return 1;
      }
      cpu::pause();
    }
    for (uint32_t k = 0; k < written; ++k) hash = (hash ^ buffer[k]) * 0x100000001b3ULL;
    total += written;
  }
  device.acknowledge_interrupt();
  print("rng: device {} at {:#x} irq {}: {} requests, {} bytes, fnv1a {:016x}\n", index, info.base, info.irq, requests,
        total, hash);
  return 0;
}
