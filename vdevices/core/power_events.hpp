// PowerEvents: how a device tells the VMM that the guest asked to end or reset the partition.
#pragma once

#include <cstdint>

namespace tilehv::vdevices {

class PowerEvents {
 public:
  virtual ~PowerEvents() = default;
  // The guest wrote an exit value (isa-debug-exit).
  virtual void guest_exit(std::uint32_t value) noexcept = 0;
  // The guest asked for a CPU reset (i8042 pulse, triple fault handled elsewhere).
  virtual void guest_reset() noexcept = 0;
};

}  // namespace tilehv::vdevices
