// MsiSender: how an interrupt controller model delivers a message-signalled interrupt to the vCPUs.
#pragma once

#include <cstdint>

namespace tilehv::vdevices {

struct MsiMessage {
  std::uint64_t address = 0;  // 0xfeeXXXXX: destination APIC id and mode
  std::uint32_t data = 0;     // vector, delivery mode, trigger mode
};

class MsiSender {
 public:
  virtual ~MsiSender() = default;
  // Delivers `message`, the current route of `pin`; false if the hypervisor refused it (reported,
  // never fatal to the VMM).
  [[nodiscard]] virtual bool send_msi(std::uint32_t pin, const MsiMessage& message) noexcept = 0;
  // The guest reprogrammed `pin`: its message from now on. The hypervisor mirrors the routes (KVM
  // needs them to inject through irqfds and to know which level-triggered vectors need an EOI exit).
  // A masked pin keeps its route: the IOAPIC never delivers a masked pin, while KVM still has to
  // report the EOI of an interrupt that was in service when the guest masked it.
  virtual void route_changed(std::uint32_t pin, const MsiMessage& message) noexcept = 0;
};

}  // namespace tilehv::vdevices
