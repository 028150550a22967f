// Vm: one KVM virtual machine: its memory slots, interrupt controller mode and vCPUs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <tl/expected.hpp>

#include "kvm/io_event.hpp"
#include "kvm/irq_fd.hpp"
#include "kvm/kvm_error.hpp"
#include "kvm/memory_slot.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::kvm {

class Kvm;
class Vcpu;

class Vm {
 public:
  [[nodiscard]] static tl::expected<Vm, KvmError> create(const Kvm& kvm);

  // LAPICs in the kernel; IOAPIC, PIC and PIT (if any) in userspace. Tearing down a VM with the
  // full in-kernel irqchip costs 8-25 ms on a nested host against 0.3 ms for the split one, and
  // userspace interrupt controllers are what snapshots and migration can save without kernel help.
  [[nodiscard]] tl::expected<void, KvmError> enable_split_irqchip(std::uint32_t ioapic_pins);

  // Maps [guest_address, guest_address + size) to host memory at `host_address` until the returned
  // slot is destroyed.
  [[nodiscard]] tl::expected<MemorySlot, KvmError> add_memory_slot(std::uint32_t slot, std::uint64_t guest_address,
                                                                   std::uint64_t size, void* host_address);

  // Where KVM may place its real-mode TSS (three pages). Needed on VMX hosts without unrestricted
  // guest support for APs starting in real mode; harmless elsewhere.
  [[nodiscard]] tl::expected<void, KvmError> set_tss_address(std::uint64_t address);

  [[nodiscard]] tl::expected<Vcpu, KvmError> create_vcpu(std::uint32_t id) const;

  // Injects a message-signalled interrupt (KVM_SIGNAL_MSI): how the userspace IOAPIC of the split
  // irqchip delivers. Returns false when KVM did not deliver it (no matching destination).
  [[nodiscard]] bool signal_msi(std::uint64_t address, std::uint32_t data) const noexcept;
  // One MSI route per GSI (KVM_SET_GSI_ROUTING), replacing the whole table. With the split irqchip,
  // routes on the GSIs reserved for the userspace IOAPIC also tell KVM which vectors are
  // level-triggered, so that their EOIs come back as KVM_EXIT_IOAPIC_EOI.
  struct MsiRoute {
    std::uint32_t gsi;
    std::uint64_t address;
    std::uint32_t data;
  };
  [[nodiscard]] tl::expected<void, KvmError> set_msi_routes(const std::vector<MsiRoute>& routes) const;
  // Binds `event_fd` to `gsi`: a write to it injects the GSI's route.
  [[nodiscard]] tl::expected<IrqFd, KvmError> add_irqfd(std::uint32_t gsi, int event_fd);

  // Signals `event_fd` instead of exiting when the guest writes `value` (`length` bytes) to MMIO
  // `address`, until the returned object is destroyed.
  [[nodiscard]] tl::expected<IoEvent, KvmError> add_mmio_event(std::uint64_t address, std::uint32_t length,
                                                               std::uint64_t value, int event_fd);

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  Vm(util::UniqueFd fd, std::size_t vcpu_mmap_size) : fd_(std::move(fd)), vcpu_mmap_size_(vcpu_mmap_size) {}

  util::UniqueFd fd_;
  std::size_t vcpu_mmap_size_;
};

}  // namespace tilehv::kvm
