// vCPU kick: the signal that interrupts a vCPU thread inside KVM_RUN.
#pragma once

namespace tilehv::vmm {

// The real-time signal used to kick vCPU threads out of the guest.
[[nodiscard]] int kick_signal() noexcept;

// Installs the (empty) handler for kick_signal(). Idempotent; a handler is needed because the
// default action of a real-time signal would end the process.
void install_kick_handler();

}  // namespace tilehv::vmm
