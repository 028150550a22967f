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

class VirtqueueBase;

// The first device announced on the boot command line that is present and has `device_id`; `index`
// receives its position among the announced devices. False if there is none.
bool find_device(uint32_t device_id, MmioDeviceInfo& out, size_t& index);

class MmioDevice {
 public:
  constexpr explicit MmioDevice(const MmioDeviceInfo& info) : base_(info.base) {}

  // Magic "virt", version 2 and a nonzero device id: something is there.
  [[nodiscard]] bool present() const;
  [[nodiscard]] uint32_t device_id() const;

  // Reset, ACKNOWLEDGE, DRIVER, negotiate `wanted` (VERSION_1 is always added) and FEATURES_OK.
  // False if the device refused; the negotiated features are in features().
  bool begin_init(uint64_t wanted);
  // begin_init() in two steps, for drivers that read the configuration before choosing features
  // (spec 3.1.1 step 4 allows reading it then): reset, ACKNOWLEDGE, DRIVER and the offered features;
  // then negotiate `wanted` as begin_init() does.
  uint64_t start_init();
  bool accept_features(uint64_t wanted);
  // Tells the device where queue `index` lives and marks it ready; false if it has no such queue. A
  // queue larger than the device's maximum is shrunk to fit (a power of two) if it is still unused;
  // otherwise that is refused too.
  bool setup_queue(uint16_t index, VirtqueueBase& queue);
  // The same for a queue laid out by the caller (tests that build rings by hand).
  bool setup_queue_at(uint16_t index, uint16_t size, uint64_t descriptors, uint64_t available, uint64_t used);
  // DRIVER_OK; false if the device then reports DEVICE_NEEDS_RESET.
  bool finish_init();

  void notify(uint16_t queue);
  [[nodiscard]] uint32_t status() const;
  [[nodiscard]] uint64_t features() const { return features_; }
  // Reads and acknowledges the interrupt status.
  uint32_t acknowledge_interrupt();

  // Device-specific configuration (offset 0x100), each field with its natural width (spec 4.2.2.2).
  // Multi-field reads belong between two equal config_generation() values (spec 2.5.1).
  [[nodiscard]] uint8_t config8(uint32_t offset) const;
  [[nodiscard]] uint16_t config16(uint32_t offset) const;
  [[nodiscard]] uint32_t config32(uint32_t offset) const;
  [[nodiscard]] uint32_t config_generation() const;
  [[nodiscard]] uint64_t base() const { return base_; }

 private:
  [[nodiscard]] uint32_t read(uint32_t offset) const;
  void write(uint32_t offset, uint32_t value);

  uint64_t base_;
  uint64_t offered_ = 0;
  uint64_t features_ = 0;
};

}  // namespace guest::virtio
