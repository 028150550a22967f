// IoEvent: an eventfd that KVM signals when the guest writes a given value to a given MMIO address,
// without an exit to userspace (KVM_IOEVENTFD). Removed when the object ends.
#pragma once

#include <cstdint>
#include <utility>

namespace tilehv::kvm {

// Created by Vm::add_mmio_event(). Must not outlive its Vm, nor the eventfd it names.
class IoEvent {
 public:
  IoEvent(const IoEvent&) = delete;
  IoEvent& operator=(const IoEvent&) = delete;
  IoEvent(IoEvent&& other) noexcept
      : vm_fd_(std::exchange(other.vm_fd_, -1)), address_(other.address_), length_(other.length_),
        event_fd_(other.event_fd_), datamatch_(other.datamatch_) {}
  IoEvent& operator=(IoEvent&&) = delete;
  ~IoEvent();

 private:
  friend class Vm;
  IoEvent(int vm_fd, std::uint64_t address, std::uint32_t length, int event_fd, std::uint64_t datamatch)
      : vm_fd_(vm_fd), address_(address), length_(length), event_fd_(event_fd), datamatch_(datamatch) {}

  int vm_fd_;  // not owned
  std::uint64_t address_;
  std::uint32_t length_;
  int event_fd_;  // not owned
  std::uint64_t datamatch_;
};

}  // namespace tilehv::kvm
