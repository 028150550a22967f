// MemorySlot: one guest-physical range of a VM backed by host memory, removed when the object ends.
#pragma once

#include <cstdint>
#include <utility>

namespace tilehv::kvm {

// Created by Vm::add_memory_slot(). Must not outlive its Vm (the VMM declares slots after the VM, so
// they go first), and the host memory behind it must outlive the slot.
class MemorySlot {
 public:
  MemorySlot(const MemorySlot&) = delete;
  MemorySlot& operator=(const MemorySlot&) = delete;
  MemorySlot(MemorySlot&& other) noexcept
      : vm_fd_(std::exchange(other.vm_fd_, -1)), slot_(other.slot_), guest_address_(other.guest_address_),
        size_(other.size_) {}
  MemorySlot& operator=(MemorySlot&&) = delete;
  ~MemorySlot();

  [[nodiscard]] std::uint32_t slot() const noexcept { return slot_; }
  [[nodiscard]] std::uint64_t guest_address() const noexcept { return guest_address_; }
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

 private:
  friend class Vm;
  MemorySlot(int vm_fd, std::uint32_t slot, std::uint64_t guest_address, std::uint64_t size)
      : vm_fd_(vm_fd), slot_(slot), guest_address_(guest_address), size_(size) {}

  int vm_fd_;  // not owned: the Vm's
  std::uint32_t slot_;
  std::uint64_t guest_address_;
  std::uint64_t size_;
};

}  // namespace tilehv::kvm
