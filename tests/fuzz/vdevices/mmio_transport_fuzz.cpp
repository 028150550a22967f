// Fuzz target: a hostile driver programs a virtio-mmio transport (with the entropy device behind it)
// register by register, over guest memory it also controls. Nothing may crash; a reset must always
// bring the transport back to status 0.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "fuzz/support/fuzz_guest.hpp"
#include "core/interrupt_line.hpp"
#include "memory/guest_memory.hpp"
#include "rng/virtio_rng.hpp"
#include "virtio/mmio_transport.hpp"

namespace {

constexpr std::size_t kFuzzedMemory = 16 * 1024;  // rings and buffers the driver points at

}  // namespace

// Input: a 16 KiB memory image (zero-padded), then operations of 6 bytes each:
// [kind][register/4][value: 4 bytes LE]. kind bit 0: write (else read), bit 1: 1-byte access.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tilehv::vdevices;
  auto& memory = tilehv::fuzzing::fuzz_guest_memory();
  auto window = memory.slice(0, kFuzzedMemory);
  std::memset(window->data(), 0, kFuzzedMemory);
  const std::size_t image = std::min(size, kFuzzedMemory);
  std::memcpy(window->data(), data, image);

  SeededEntropy entropy(1);
  VirtioRng rng(memory, entropy);
  UnconnectedLine line;
  virtio::MmioTransport transport(rng, memory, line);
  for (std::size_t pos = image; pos + 6 <= size; pos += 6) {
    const std::uint8_t kind = data[pos];
    const std::uint64_t offset = std::uint64_t{data[pos + 1]} * 4;  // 0..0x3fc: registers and config
    std::uint8_t value[4];
    std::memcpy(value, data + pos + 2, 4);
    const std::size_t width = (kind & 2) != 0 ? 1 : 4;
    if ((kind & 1) != 0) {
      transport.mmio_write(offset, {value, width});
    } else {
      transport.mmio_read(offset, {value, width});
    }
  }
  const std::uint32_t zero = 0;
  transport.mmio_write(0x070, {reinterpret_cast<const std::uint8_t*>(&zero), 4});
  if (transport.status() != 0) __builtin_trap();
  return 0;
}
