// IrqFd: an eventfd bound to a GSI (KVM_IRQFD): a write to it makes KVM inject the interrupt that
// GSI's route describes, without the writer touching the vCPUs. Unbound when the object ends.
#pragma once

#include <cstdint>
#include <utility>

namespace tilehv::kvm {

// Created by Vm::add_irqfd(). Must not outlive its Vm, nor the eventfd it names.
class IrqFd {
 public:
  IrqFd(const IrqFd&) = delete;
  IrqFd& operator=(const IrqFd&) = delete;
  IrqFd(IrqFd&& other) noexcept : vm_fd_(std::exchange(other.vm_fd_, -1)), gsi_(other.gsi_), event_fd_(other.event_fd_) {}
  IrqFd& operator=(IrqFd&&) = delete;
  ~IrqFd();

 private:
  friend class Vm;
  IrqFd(int vm_fd, std::uint32_t gsi, int event_fd) : vm_fd_(vm_fd), gsi_(gsi), event_fd_(event_fd) {}

  int vm_fd_;  // not owned
  std::uint32_t gsi_;
  int event_fd_;  // not owned
};

}  // namespace tilehv::kvm
