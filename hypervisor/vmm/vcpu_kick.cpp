// vCPU kick: the signal that interrupts a vCPU thread inside KVM_RUN.
#include "vmm/vcpu_kick.hpp"

#include <csignal>
#include <cstring>
#include <stdexcept>

namespace tilehv::vmm {
namespace {

// Nothing to do: delivery alone makes KVM_RUN return EINTR.
void on_kick(int /*signal*/) {}

}  // namespace

int kick_signal() noexcept { return SIGRTMIN; }

void install_kick_handler() {
  struct sigaction action {};
  action.sa_handler = on_kick;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: the interrupted KVM_RUN must return
  if (::sigaction(kick_signal(), &action, nullptr) != 0) {
    throw std::runtime_error("cannot install the vCPU kick signal handler");
  }
}

}  // namespace tilehv::vmm
