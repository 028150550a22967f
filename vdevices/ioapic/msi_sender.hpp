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
  // The guest reprogrammed `pin`: its message from now on, or masked. The hypervisor mirrors the
  // routes (KVM needs them to know which vectors are level-triggered and to inject through irqfds).
  virtual void route_changed(std::uint32_t pin, const MsiMessage& message, bool masked) noexcept = 0;
};

}  // namespace tilehv::vdevices
