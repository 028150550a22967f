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
  // Delivers `message`; false if the hypervisor refused it (reported, never fatal to the VMM).
  [[nodiscard]] virtual bool send_msi(const MsiMessage& message) noexcept = 0;
};

}  // namespace tilehv::vdevices
