// What the virtio fuzz targets share: one guest RAM for the whole run (creating a memfd per input
// would dominate the fuzzer's time) and an interrupt that goes nowhere.
#pragma once

#include "memory/guest_memory.hpp"
#include "virtio/virtio_device.hpp"

namespace tilehv::fuzzing {

// 4 MiB of guest RAM, created once; each input overwrites the part it drives.
inline memory::GuestMemory& fuzz_guest_memory() {
  static auto memory = memory::GuestMemory::create(4 * memory::kMiB);
  if (!memory) __builtin_trap();
  return *memory;
}

class NullInterrupt final : public vdevices::virtio::VirtioInterrupt {
 public:
  void used_buffers() noexcept override {}
  void config_changed() noexcept override {}
};

}  // namespace tilehv::fuzzing
