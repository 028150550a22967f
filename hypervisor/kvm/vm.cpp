// Vm: one KVM virtual machine: its memory slots, interrupt controller mode and vCPUs.
#include "kvm/vm.hpp"

#include "kvm/kvm_abi.hpp"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "kvm/kvm.hpp"
#include "kvm/vcpu.hpp"
#include "util/errno_text.hpp"

namespace tilehv::kvm {
namespace {

KvmError ioctl_error(const char* what) {
  const int err = errno;
  return KvmError{KvmErrc::kIoctlFailed, err, fmt::format("{} failed: {}", what, util::errno_text(err))};
}

}  // namespace

tl::expected<Vm, KvmError> Vm::create(const Kvm& kvm) {
  int fd = -1;
  do {
    // KVM_CREATE_VM can fail with EINTR while the kernel waits for a previous VM's teardown.
    fd = ::ioctl(kvm.fd(), KVM_CREATE_VM, 0);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return tl::unexpected(ioctl_error("KVM_CREATE_VM"));
  }
  return Vm(util::UniqueFd(fd), kvm.vcpu_mmap_size());
}

tl::expected<void, KvmError> Vm::enable_split_irqchip(std::uint32_t ioapic_pins) {
  kvm_enable_cap cap{};
  cap.cap = KVM_CAP_SPLIT_IRQCHIP;
  cap.args[0] = ioapic_pins;
  if (::ioctl(fd_.get(), KVM_ENABLE_CAP, &cap) != 0) {
    return tl::unexpected(ioctl_error("KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP)"));
  }
  return {};
}

tl::expected<MemorySlot, KvmError> Vm::add_memory_slot(std::uint32_t slot, std::uint64_t guest_address,
                                                       std::uint64_t size, void* host_address) {
  kvm_userspace_memory_region region{};
  region.slot = slot;
  region.guest_phys_addr = guest_address;
  region.memory_size = size;
  region.userspace_addr = reinterpret_cast<std::uintptr_t>(host_address);
  if (::ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region) != 0) {
    return tl::unexpected(ioctl_error("KVM_SET_USER_MEMORY_REGION"));
  }
  return MemorySlot(fd_.get(), slot, guest_address, size);
}

MemorySlot::~MemorySlot() {
  if (vm_fd_ < 0) return;
  // A size of zero deletes the slot (KVM API, KVM_SET_USER_MEMORY_REGION).
  kvm_userspace_memory_region region{};
  region.slot = slot_;
  region.guest_phys_addr = guest_address_;
  region.memory_size = 0;
  if (::ioctl(vm_fd_, KVM_SET_USER_MEMORY_REGION, &region) != 0) {
    // The guest could keep reaching host memory we are about to release: do not carry on.
    std::fprintf(stderr, "tilehv: fatal: cannot remove memory slot %u: %s\n", slot_, std::strerror(errno));
    std::abort();
  }
}

tl::expected<void, KvmError> Vm::set_tss_address(std::uint64_t address) {
  if (::ioctl(fd_.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(address)) != 0) {
    return tl::unexpected(ioctl_error("KVM_SET_TSS_ADDR"));
  }
  return {};
}

tl::expected<IoEvent, KvmError> Vm::add_mmio_event(std::uint64_t address, std::uint32_t length, std::uint64_t value,
                                                   int event_fd) {
  kvm_ioeventfd request{};
  request.addr = address;
  request.len = length;
  request.fd = event_fd;
  request.datamatch = value;
  request.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
  if (::ioctl(fd_.get(), KVM_IOEVENTFD, &request) != 0) {
    return tl::unexpected(ioctl_error("KVM_IOEVENTFD"));
  }
  return IoEvent(fd_.get(), address, length, event_fd, value);
}

tl::expected<void, KvmError> Vm::set_msi_routes(const std::vector<MsiRoute>& routes) const {
  // struct kvm_irq_routing ends in a flexible array: one buffer holds the header and the entries.
  // 8-byte words keep the entries (which hold 64-bit fields) aligned.
  std::vector<std::uint64_t> buffer((sizeof(abi::IrqRoutingHeader) + routes.size() * sizeof(kvm_irq_routing_entry)) / 8);
  auto* table = reinterpret_cast<abi::IrqRoutingHeader*>(buffer.data());
  table->nr = static_cast<std::uint32_t>(routes.size());
  auto* entries = reinterpret_cast<kvm_irq_routing_entry*>(buffer.data() + 1);
  for (std::size_t i = 0; i < routes.size(); ++i) {
    entries[i].gsi = routes[i].gsi;
    entries[i].type = KVM_IRQ_ROUTING_MSI;
    entries[i].u.msi.address_lo = static_cast<std::uint32_t>(routes[i].address);
    entries[i].u.msi.address_hi = static_cast<std::uint32_t>(routes[i].address >> 32);
    entries[i].u.msi.data = routes[i].data;
  }
  if (::ioctl(fd_.get(), abi::kSetGsiRouting, table) != 0) return tl::unexpected(ioctl_error("KVM_SET_GSI_ROUTING"));
  return {};
}

tl::expected<IrqFd, KvmError> Vm::add_irqfd(std::uint32_t gsi, int event_fd) {
  kvm_irqfd request{};
  request.fd = static_cast<std::uint32_t>(event_fd);
  request.gsi = gsi;
  if (::ioctl(fd_.get(), KVM_IRQFD, &request) != 0) return tl::unexpected(ioctl_error("KVM_IRQFD"));
  return IrqFd(fd_.get(), gsi, event_fd);
}

IrqFd::~IrqFd() {
  if (vm_fd_ < 0) return;
  kvm_irqfd request{};
  request.fd = static_cast<std::uint32_t>(event_fd_);
  request.gsi = gsi_;
  request.flags = KVM_IRQFD_FLAG_DEASSIGN;
  (void)::ioctl(vm_fd_, KVM_IRQFD, &request);
}

IoEvent::~IoEvent() {
  if (vm_fd_ < 0) return;
  kvm_ioeventfd request{};
  request.addr = address_;
  request.len = length_;
  request.fd = event_fd_;
  request.datamatch = datamatch_;
  request.flags = KVM_IOEVENTFD_FLAG_DATAMATCH | KVM_IOEVENTFD_FLAG_DEASSIGN;
  // Failing to deassign leaves KVM signalling an eventfd that is about to close: harmless for the
  // guest (its writes are then lost), so it is not fatal.
  (void)::ioctl(vm_fd_, KVM_IOEVENTFD, &request);
}

bool Vm::signal_msi(std::uint64_t address, std::uint32_t data) const noexcept {
  kvm_msi msi{};
  msi.address_lo = static_cast<std::uint32_t>(address);
  msi.address_hi = static_cast<std::uint32_t>(address >> 32);
  msi.data = data;
  // > 0: delivered; 0: blocked by the guest (e.g. masked LAPIC); < 0: error.
  return ::ioctl(fd_.get(), KVM_SIGNAL_MSI, &msi) > 0;
}

tl::expected<Vcpu, KvmError> Vm::create_vcpu(std::uint32_t id) const {
  return Vcpu::create(fd_.get(), id, vcpu_mmap_size_);
}

}  // namespace tilehv::kvm
