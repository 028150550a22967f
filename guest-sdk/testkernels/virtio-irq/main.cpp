// virtio-irq: device interrupts through the IOAPIC wake a halted CPU. Drives the virtio entropy device
// announced on the command line: for each of requests=N (default 32) it posts a buffer, notifies, and
// halts until the buffer is back and an interrupt has been taken since the notification, first on
// the boot CPU and then, with the pin routed anew, on the last CPU to come online. Prints
// "virtio-irq: cpu <i>: <N> requests, <k> interrupts" per CPU (k >= N: a device may interrupt with
// nothing new, and a spurious wake only costs a re-check) and "virtio-irq: ok" (exit 0), or the
// evidence of what failed (exit 1).
#include <guest/ioapic.hpp>
#include <guest/kernel.hpp>
#include <guest/virtio_interrupt.hpp>
#include <guest/virtio_mmio.hpp>
#include <guest/virtqueue.hpp>

using namespace guest;

namespace {

constexpr uint32_t kEntropyDeviceId = 4;
constexpr uint64_t kWaitNs = 1'000'000'000;

virtio::MmioDeviceInfo info{};
virtio::Virtqueue queue;
virtio::DeviceInterrupt interrupt;
alignas(64) uint8_t buffer[64];
bool failed = false;

// Runs on one CPU: routes the pin here, then every request must end with an interrupt.
void exercise(virtio::MmioDevice& device, uint64_t requests) {
  interrupt.disable();
  if (!interrupt.enable(info)) {
    print("virtio-irq: cpu {}: pin {} cannot be routed ({} IOAPIC pins)\n", smp::cpu_index(), info.irq,
          ioapic::pin_count());
    failed = true;
    return;
  }
  interrupt.set_spin_ns(0);
  const uint64_t first = interrupt.count();
  for (uint64_t r = 0; r < requests; ++r) {
    const virtio::DriverBuffer b{buffer, sizeof buffer, true};
    if (queue.add(&b, 1) < 0) {
      failed = true;
      return;
    }
    const uint64_t before = interrupt.count();
    device.notify(0);
    // Both: the buffer alone could have been found by polling, and an interrupt alone may be spurious
    // (a device may notify with nothing new, which spec 2.7.7.2 lets drivers ignore).
    const bool woke = interrupt.wait_until([before] { return interrupt.count() > before && queue.has_used(); },
                                           time::Deadline::after_ns(kWaitNs));
    uint16_t head = 0;
    uint32_t written = 0;
    if (!woke || !queue.take_used(head, written)) {
      print("virtio-irq: cpu {}: request {}: {} interrupts, buffer {}, entry {:#x}\n", smp::cpu_index(), r,
            interrupt.count() - before, queue.has_used() ? "returned" : "missing", ioapic::redirection_entry(info.irq));
      failed = true;
      return;
    }
  }
  const uint64_t taken = interrupt.count() - first;
  print("virtio-irq: cpu {}: {} requests, {} interrupts\n", smp::cpu_index(), requests, taken);
  if (taken < requests) failed = true;
}

}  // namespace

int kernel_main() {
  size_t index = 0;
  if (!virtio::find_device(kEntropyDeviceId, info, index)) {
    print("virtio-irq: no virtio entropy device announced\n");
    return 1;
  }
  virtio::MmioDevice device(info);
  if (!device.begin_init(0) || !device.setup_queue(0, queue) || !device.finish_init()) {
    print("virtio-irq: device at {:#x} refused initialization\n", info.base);
    return 1;
  }
  const uint64_t requests = cmdline::get_u64("requests", 32);
  exercise(device, requests);
  const smp::StartResult started = smp::start_aps();
  if (started.online > 1) {
    const uint32_t last = started.online - 1;
    smp::run_on_all([&] {
      if (smp::cpu_index() == last) exercise(device, requests);
    });
  }
  interrupt.disable();
  print("virtio-irq: {}\n", failed ? "failed" : "ok");
  return failed ? 1 : 0;
}
