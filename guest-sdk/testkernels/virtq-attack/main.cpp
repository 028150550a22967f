// virtq-attack: a hostile driver. It attacks the virtqueue of the entropy device announced on the
// command line, one attack at a time, and checks that each is contained: the device either refuses the
// queue (DEVICE_NEEDS_RESET) or serves it without touching what it must not; after a reset the device
// works again. Prints one line per attack and exits 0 when every attack was contained.
#include <guest/kernel.hpp>
#include <guest/virtio_mmio.hpp>

using namespace guest;

namespace {

constexpr uint32_t kEntropyDeviceId = 4;
constexpr uint16_t kSize = 16;
constexpr uint16_t kNext = 1, kWrite = 2, kIndirect = 4;
constexpr uint32_t kNeedsReset = 0x40;

struct [[gnu::packed]] Desc {
  uint64_t address;
  uint32_t length;
  uint16_t flags;
  uint16_t next;
};
struct Avail {
  uint16_t flags, index, ring[kSize], used_event;
};
struct UsedElem {
  uint32_t id, length;
};
struct Used {
  uint16_t flags, index;
  UsedElem ring[kSize];
  uint16_t avail_event;
};
struct Ring {
  alignas(16) Desc desc[kSize];
  alignas(4) Avail avail;
  alignas(4) Used used;
};

Ring ring;
alignas(64) uint8_t buffer[256];

void clear(void* p, size_t n) {
  auto* b = static_cast<volatile uint8_t*>(p);
  for (size_t i = 0; i < n; ++i) b[i] = 0;
}

bool bring_up(virtio::MmioDevice& device) {
  clear(&ring, sizeof ring);
  return device.begin_init(0) &&
         device.setup_queue_at(0, kSize, reinterpret_cast<uint64_t>(&ring.desc), reinterpret_cast<uint64_t>(&ring.avail),
                               reinterpret_cast<uint64_t>(&ring.used)) &&
         device.finish_init();
}

void publish(uint16_t head, uint16_t index) {
  ring.avail.ring[(index - 1) % kSize] = head;
  __atomic_store_n(&ring.avail.index, index, __ATOMIC_RELEASE);
}

uint16_t used_index() { return __atomic_load_n(&ring.used.index, __ATOMIC_ACQUIRE); }

bool wait_used(uint16_t at_least) {
  const time::Deadline deadline = time::Deadline::after_ns(200'000'000);
  while (static_cast<int16_t>(used_index() - at_least) < 0) {
    if (deadline.expired()) return false;
    cpu::pause();
  }
  return true;
}

struct Verdict {
  bool contained;
  const char* how;
};

// Attacks that a correct device must refuse with DEVICE_NEEDS_RESET. A kick may be served
// asynchronously (tilehv serves it on a device thread through an ioeventfd), so wait for the verdict.
Verdict expect_reset(virtio::MmioDevice& device) {
  device.notify(0);
  const time::Deadline deadline = time::Deadline::after_ns(500'000'000);
  while ((device.status() & kNeedsReset) == 0) {
    if (deadline.expired()) return {false, "device accepted a malformed queue"};
    cpu::pause();
  }
  return {true, "device refused the queue"};
}

Verdict descriptor_outside_ram(virtio::MmioDevice& d) {
  ring.desc[0] = {0xe000'0000, 64, kWrite, 0};  // in the MMIO hole, nothing behind it
  publish(0, 1);
  return expect_reset(d);
}

Verdict descriptor_address_overflow(virtio::MmioDevice& d) {
  ring.desc[0] = {0xffff'ffff'ffff'fff0ULL, 64, kWrite, 0};
  publish(0, 1);
  return expect_reset(d);
}

Verdict descriptor_loop(virtio::MmioDevice& d) {
  ring.desc[0] = {reinterpret_cast<uint64_t>(buffer), 8, kWrite | kNext, 1};
  ring.desc[1] = {reinterpret_cast<uint64_t>(buffer), 8, kWrite | kNext, 0};
  publish(0, 1);
  return expect_reset(d);
}

Verdict giant_chain(virtio::MmioDevice& d) {
  for (uint16_t i = 0; i < kSize; ++i) {
    ring.desc[i] = {reinterpret_cast<uint64_t>(buffer), 8, kWrite | kNext, static_cast<uint16_t>((i + 1) % kSize)};
  }
  publish(0, 1);
  return expect_reset(d);
}

Verdict wrapped_avail_index(virtio::MmioDevice& d) {
  ring.desc[0] = {reinterpret_cast<uint64_t>(buffer), 8, kWrite, 0};
  publish(0, 0x8000);
  return expect_reset(d);
}

Verdict head_out_of_range(virtio::MmioDevice& d) {
  publish(200, 1);
  return expect_reset(d);
}

Verdict next_out_of_range(virtio::MmioDevice& d) {
  ring.desc[0] = {reinterpret_cast<uint64_t>(buffer), 8, kWrite | kNext, 300};
  publish(0, 1);
  return expect_reset(d);
}

Verdict indirect_not_negotiated(virtio::MmioDevice& d) {
  ring.desc[0] = {reinterpret_cast<uint64_t>(buffer), 64, kIndirect, 0};
  publish(0, 1);
  return expect_reset(d);
}

Verdict readable_after_writable(virtio::MmioDevice& d) {
  ring.desc[0] = {reinterpret_cast<uint64_t>(buffer), 8, kWrite | kNext, 1};
  ring.desc[1] = {reinterpret_cast<uint64_t>(buffer) + 64, 8, 0, 0};
  publish(0, 1);
  return expect_reset(d);
}

// The device may only write into device-writable buffers.
Verdict write_into_readable_buffer(virtio::MmioDevice& d) {
  for (auto& b : buffer) b = 0xab;
  ring.desc[0] = {reinterpret_cast<uint64_t>(buffer), 64, 0, 0};
  publish(0, 1);
  d.notify(0);
  if (!wait_used(1)) return {false, "the request never came back"};
  for (size_t i = 0; i < 64; ++i) {
    if (buffer[i] != 0xab) return {false, "the device wrote into a device-readable buffer"};
  }
  return ring.used.ring[0].length == 0 ? Verdict{true, "nothing written, 0 bytes reported"}
                                       : Verdict{false, "bytes reported for a read-only buffer"};
}

// The device owns the used index: a driver that scribbles on it cannot move the device.
Verdict used_ring_tampering(virtio::MmioDevice& d) {
  ring.desc[0] = {reinterpret_cast<uint64_t>(buffer), 16, kWrite, 0};
  __atomic_store_n(&ring.used.index, static_cast<uint16_t>(1000), __ATOMIC_RELEASE);
  publish(0, 1);
  d.notify(0);
  const time::Deadline deadline = time::Deadline::after_ns(200'000'000);
  while (used_index() != 1 && !deadline.expired()) cpu::pause();
  return used_index() == 1 && ring.used.ring[0].id == 0 ? Verdict{true, "device kept its own used index"}
                                                         : Verdict{false, "used index moved by the driver's write"};
}

Verdict notification_storm(virtio::MmioDevice& d) {
  for (int i = 0; i < 20000; ++i) d.notify(0);
  ring.desc[0] = {reinterpret_cast<uint64_t>(buffer), 32, kWrite, 0};
  publish(0, 1);
  d.notify(0);
  return wait_used(1) && ring.used.ring[0].length == 32 ? Verdict{true, "20000 empty notifications, then served"}
                                                        : Verdict{false, "device stopped serving"};
}

struct Attack {
  const char* name;
  Verdict (*run)(virtio::MmioDevice&);
};

constexpr Attack kAttacks[] = {
    {"descriptor-outside-ram", descriptor_outside_ram},
    {"descriptor-address-overflow", descriptor_address_overflow},
    {"descriptor-loop", descriptor_loop},
    {"giant-chain", giant_chain},
    {"wrapped-avail-index", wrapped_avail_index},
    {"head-out-of-range", head_out_of_range},
    {"next-out-of-range", next_out_of_range},
    {"indirect-not-negotiated", indirect_not_negotiated},
    {"readable-after-writable", readable_after_writable},
    {"write-into-readable-buffer", write_into_readable_buffer},
    {"used-ring-tampering", used_ring_tampering},
    {"notification-storm", notification_storm},
};

}  // namespace

int kernel_main() {
  virtio::MmioDeviceInfo info{};
  size_t index = 0;
  if (!virtio::find_device(kEntropyDeviceId, info, index)) {
    print("virtq-attack: no virtio entropy device announced\n");
    return 1;
  }
  virtio::MmioDevice device(info);
  size_t contained = 0;
  for (const Attack& attack : kAttacks) {
    if (!bring_up(device)) {
      print("attack {}: device did not come up after reset (status {:#x})\n", attack.name, device.status());
      continue;
    }
    const Verdict v = attack.run(device);
    print("attack {}: {} ({})\n", attack.name, v.contained ? "contained" : "NOT CONTAINED", v.how);
    if (v.contained) ++contained;
  }
  // After everything, a well-behaved driver is served again.
  bool works = bring_up(device);
  if (works) {
    ring.desc[0] = {reinterpret_cast<uint64_t>(buffer), 64, kWrite, 0};
    publish(0, 1);
    device.notify(0);
    works = wait_used(1) && ring.used.ring[0].length == 64;
  }
  const size_t total = sizeof kAttacks / sizeof kAttacks[0];
  print("virtq-attack: {}/{} attacks contained, device {}\n", contained, total, works ? "serves again" : "BROKEN");
  return contained == total && works ? 0 : 1;
}
