// virtio-mmio (driver side): device discovery from the command line and the initialization sequence of
// virtio 1.2 spec 3.1.1 over the version-2 register file (spec 4.2.2).
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/str_view.hpp>

namespace guest::virtio {

// A device announced as virtio_mmio.device=SIZE@BASE:IRQ (Linux's syntax, used by tilehv and QEMU).
struct MmioDeviceInfo {
  uint64_t base;
  uint64_t size;
  uint32_t irq;
};

// Parses every virtio_mmio.device= word of `line` into `out` (at most `capacity`); returns how many.
// Malformed words are skipped.
size_t discover(StrView line, MmioDeviceInfo* out, size_t capacity);

class Virtqueue;

// The first device announced on the boot command line that is present and has `device_id`; `index`
// receives its position among the announced devices. False if there is none.
bool find_device(uint32_t device_id, MmioDeviceInfo& out, size_t& index);

class MmioDevice {
 public:
  explicit MmioDevice(const MmioDeviceInfo& info) : base_(info.base) {}

  // Magic "virt", version 2 and a nonzero device id: something is there.
  [[nodiscard]] bool present() const;
  [[nodiscard]] uint32_t device_id() const;

  // Reset, ACKNOWLEDGE, DRIVER, negotiate `wanted` (VERSION_1 is always added) and FEATURES_OK.
  // False if the device refused; the negotiated features are in features().
  bool begin_init(uint64_t wanted);
  // Tells the device where queue `index` lives and marks it ready; false if it has no such queue or
  // the queue is smaller than `queue`'s size.
  bool setup_queue(uint16_t index, Virtqueue& queue);
  // The same for a queue laid out by the caller (tests that build rings by hand).
  bool setup_queue_at(uint16_t index, uint16_t size, uint64_t descriptors, uint64_t available, uint64_t used);
  // DRIVER_OK; false if the device then reports DEVICE_NEEDS_RESET.
  bool finish_init();

  void notify(uint16_t queue);
  [[nodiscard]] uint32_t status() const;
  [[nodiscard]] uint64_t features() const { return features_; }
  // Reads and acknowledges the interrupt status.
  uint32_t acknowledge_interrupt();

 private:
  [[nodiscard]] uint32_t read(uint32_t offset) const;
  void write(uint32_t offset, uint32_t value);

  uint64_t base_;
  uint64_t features_ = 0;
};

}  // namespace guest::virtio
