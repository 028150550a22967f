// Bus devices: what an I/O-port or MMIO range is bound to. Devices never see KVM or the bus itself.
#pragma once

#include <cstdint>
#include <span>

namespace tilehv::vdevices {

// A device on the I/O-port bus. Offsets are relative to the range the device was registered at.
// Calls may come from several vCPU threads at once; devices synchronize internally.
class PioDevice {
 public:
  virtual ~PioDevice() = default;
  // Fills `data` (1, 2 or 4 bytes, little-endian) with the value read at `offset`.
  virtual void pio_read(std::uint16_t offset, std::span<std::uint8_t> data) noexcept = 0;
  virtual void pio_write(std::uint16_t offset, std::span<const std::uint8_t> data) noexcept = 0;
  // String output (rep outs): `count` elements of `element_size` bytes to the same port. Devices that
  // can take a burst at once override this; the default is one access per element.
  virtual void pio_write_string(std::uint16_t offset, std::uint8_t element_size,
                                std::span<const std::uint8_t> data) noexcept {
    if (element_size == 0) return;  // KVM reports 1, 2 or 4; anything else would never advance
    for (std::size_t i = 0; i + element_size <= data.size(); i += element_size) {
      pio_write(offset, data.subspan(i, element_size));
    }
  }
};

// A device on the MMIO bus.
class MmioDevice {
 public:
  virtual ~MmioDevice() = default;
  virtual void mmio_read(std::uint64_t offset, std::span<std::uint8_t> data) noexcept = 0;
  virtual void mmio_write(std::uint64_t offset, std::span<const std::uint8_t> data) noexcept = 0;
};

}  // namespace tilehv::vdevices
