// MmioDriver: a virtio-mmio driver for tests: it programs a transport's registers exactly as a guest
// driver does (spec 4.2.3), or breaks the rules on purpose.
#pragma once

#include <cstdint>
#include <cstring>

#include "virtio/mmio_transport.hpp"
#include "virtio/split_queue.hpp"

namespace tilehv::testing {

class MmioDriver {
 public:
  explicit MmioDriver(vdevices::virtio::MmioTransport& transport) : t_(transport) {}

  std::uint32_t read(std::uint64_t offset) {
    std::uint32_t v = 0;
    t_.mmio_read(offset, {reinterpret_cast<std::uint8_t*>(&v), 4});
    return v;
  }
  void write(std::uint64_t offset, std::uint32_t value) {
    t_.mmio_write(offset, {reinterpret_cast<const std::uint8_t*>(&value), 4});
  }

  // Spec 3.1.1 steps 1-6: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK. True if accepted.
  bool negotiate(std::uint64_t features) {
    write(0x070, 0);
    write(0x070, 1);
    write(0x070, 1 | 2);
    write(0x024, 0);
    write(0x020, static_cast<std::uint32_t>(features));
    write(0x024, 1);
    write(0x020, static_cast<std::uint32_t>(features >> 32));
    write(0x070, 1 | 2 | 8);
    return (read(0x070) & 8) != 0;
  }

  void setup_queue(std::uint16_t index, const vdevices::virtio::QueueLayout& layout) {
    write(0x030, index);
    write(0x038, layout.size);
    write(0x080, static_cast<std::uint32_t>(layout.descriptor_table));
    write(0x084, static_cast<std::uint32_t>(layout.descriptor_table >> 32));
    write(0x090, static_cast<std::uint32_t>(layout.available_ring));
    write(0x094, static_cast<std::uint32_t>(layout.available_ring >> 32));
    write(0x0a0, static_cast<std::uint32_t>(layout.used_ring));
    write(0x0a4, static_cast<std::uint32_t>(layout.used_ring >> 32));
    write(0x044, 1);
  }

  void driver_ok() { write(0x070, 1 | 2 | 8 | 4); }
  void notify(std::uint16_t queue) { write(0x050, queue); }
  std::uint32_t interrupt_status() { return read(0x060); }
  void ack(std::uint32_t bits) { write(0x064, bits); }
  std::uint32_t status() { return read(0x070); }

 private:
  vdevices::virtio::MmioTransport& t_;
};

// An interrupt line that remembers its level and how often it rose.
class RecordingLine final : public vdevices::InterruptLine {
 public:
  void set_level(bool asserted) noexcept override {
    if (asserted && !level) ++rises;
    level = asserted;
  }
  bool level = false;
  int rises = 0;
};

}  // namespace tilehv::testing
