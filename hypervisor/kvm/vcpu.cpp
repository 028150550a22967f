// Vcpu: one KVM virtual CPU: its fd, its shared run structure, and its register state.
#include "kvm/vcpu.hpp"

#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <memory>

#include <fmt/format.h>

#include "kvm/kvm_abi.hpp"
#include "util/errno_text.hpp"

namespace tilehv::kvm {
namespace {

KvmError ioctl_error(const char* what) {
  const int err = errno;
  return KvmError{KvmErrc::kIoctlFailed, err, fmt::format("{} failed: {}", what, util::errno_text(err))};
}

Segment from_kvm(const kvm_segment& s) {
  return Segment{s.base,        s.limit,       s.selector,    s.type,
                 s.present != 0, s.dpl,        s.db != 0,     s.s != 0,
                 s.l != 0,      s.g != 0,      s.avl != 0,    s.unusable != 0};
}

kvm_segment to_kvm(const Segment& s) {
  kvm_segment k{};
  k.base = s.base;
  k.limit = s.limit;
  k.selector = s.selector;
  k.type = s.type;
  k.present = s.present ? 1 : 0;
  k.dpl = s.dpl;
  k.db = s.db ? 1 : 0;
  k.s = s.s ? 1 : 0;
  k.l = s.l ? 1 : 0;
  k.g = s.g ? 1 : 0;
  k.avl = s.avl ? 1 : 0;
  k.unusable = s.unusable ? 1 : 0;
  return k;
}

SystemEventExit::Kind system_event_kind(std::uint32_t type) {
  switch (type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN:
      return SystemEventExit::Kind::kShutdown;
    case KVM_SYSTEM_EVENT_RESET:
      return SystemEventExit::Kind::kReset;
    case KVM_SYSTEM_EVENT_CRASH:
      return SystemEventExit::Kind::kCrash;
    default:
      return SystemEventExit::Kind::kOther;
  }
}

InternalErrorExit::Kind internal_error_kind(std::uint32_t suberror) {
  switch (suberror) {
    case KVM_INTERNAL_ERROR_EMULATION:
      return InternalErrorExit::Kind::kEmulation;
    case KVM_INTERNAL_ERROR_SIMUL_EX:
      return InternalErrorExit::Kind::kSimultaneousExceptions;
    case KVM_INTERNAL_ERROR_DELIVERY_EV:
      return InternalErrorExit::Kind::kDeliveryEvent;
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
      return InternalErrorExit::Kind::kUnexpectedExitReason;
    default:
      return InternalErrorExit::Kind::kOther;
  }
}

static_assert(kCpuidIndexSignificant == KVM_CPUID_FLAG_SIGNIFCANT_INDEX);

}  // namespace

tl::expected<Vcpu, KvmError> Vcpu::create(int vm_fd, std::uint32_t id, std::size_t mmap_size) {
  util::UniqueFd fd(::ioctl(vm_fd, KVM_CREATE_VCPU, static_cast<unsigned long>(id)));
  if (!fd) {
    return tl::unexpected(ioctl_error("KVM_CREATE_VCPU"));
  }
  auto mapping = util::Mapping::map(mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (!mapping) {
    return tl::unexpected(KvmError{KvmErrc::kMapFailed, mapping.error(),
                                   "mmap of the vCPU run structure failed: " +
                                       util::errno_text(mapping.error())});
  }
  return Vcpu(std::move(fd), std::move(*mapping), id);
}

kvm_run* Vcpu::run_struct() const noexcept {
  // SAFETY: the mapping is the kernel's kvm_run page for this vCPU, at least sizeof(kvm_run) long.
  return reinterpret_cast<kvm_run*>(run_mapping_.data());
}

void Vcpu::request_immediate_exit() noexcept {
  std::atomic_ref<std::uint8_t>(run_struct()->immediate_exit).store(1, std::memory_order_release);
}

void Vcpu::clear_immediate_exit() noexcept {
  std::atomic_ref<std::uint8_t>(run_struct()->immediate_exit).store(0, std::memory_order_release);
}

tl::expected<VcpuExit, KvmError> Vcpu::run() noexcept {
  kvm_run* run = run_struct();
  if (::ioctl(fd_.get(), KVM_RUN, 0) != 0) {
    if (errno == EINTR || errno == EAGAIN) {
      return InterruptedExit{};
    }
    const int err = errno;
    return tl::unexpected(KvmError{KvmErrc::kIoctlFailed, err, "KVM_RUN failed: " + util::errno_text(err)});
  }
  switch (run->exit_reason) {
    case KVM_EXIT_IO: {
      const std::size_t bytes = std::size_t{run->io.size} * run->io.count;
      // The kernel places the data inside the run mapping; check rather than trust the offset.
      if (run->io.data_offset > run_mapping_.size() || bytes > run_mapping_.size() - run->io.data_offset) {
        return UnexpectedExit{run->exit_reason};
      }
      return IoExit{run->io.direction == KVM_EXIT_IO_OUT, run->io.port, run->io.size, run->io.count,
                    std::span<std::uint8_t>(run_mapping_.data() + run->io.data_offset, bytes)};
    }
    case KVM_EXIT_MMIO: {
      const std::uint32_t len = run->mmio.len <= sizeof run->mmio.data ? run->mmio.len : 0;
      return MmioExit{run->mmio.is_write != 0, run->mmio.phys_addr,
                      std::span<std::uint8_t>(run->mmio.data, len)};
    }
    case KVM_EXIT_HLT:
      return HaltExit{};
    case KVM_EXIT_SHUTDOWN:
      return ShutdownExit{};
    case KVM_EXIT_INTERNAL_ERROR: {
      InternalErrorExit e;
      e.suberror = run->internal.suberror;
      e.ndata = run->internal.ndata < e.data.size() ? run->internal.ndata
                                                    : static_cast<std::uint32_t>(e.data.size());
      for (std::uint32_t i = 0; i < e.ndata; ++i) {
        e.data[i] = run->internal.data[i];
      }
      e.kind = internal_error_kind(e.suberror);
      // emulation_failure overlays internal: flags in data[0], then the size and the bytes.
      if (e.suberror == KVM_INTERNAL_ERROR_EMULATION && e.ndata >= 3 &&
          (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES) != 0) {
        e.instruction_size = std::min<std::uint8_t>(run->emulation_failure.insn_size, 15);
        for (std::size_t i = 0; i < e.instruction_size; ++i) {
          e.instruction[i] = run->emulation_failure.insn_bytes[i];
        }
      }
      return e;
    }
    case KVM_EXIT_FAIL_ENTRY:
      return FailEntryExit{run->fail_entry.hardware_entry_failure_reason, run->fail_entry.cpu};
    case KVM_EXIT_SYSTEM_EVENT:
      return SystemEventExit{system_event_kind(run->system_event.type), run->system_event.type};
    case KVM_EXIT_IOAPIC_EOI:
      return IoapicEoiExit{run->eoi.vector};
    case KVM_EXIT_INTR:
      return InterruptedExit{};
    default:
      return UnexpectedExit{run->exit_reason};
  }
}

tl::expected<Registers, KvmError> Vcpu::registers() const {
  kvm_regs r{};
  if (::ioctl(fd_.get(), KVM_GET_REGS, &r) != 0) {
    return tl::unexpected(ioctl_error("KVM_GET_REGS"));
  }
  return Registers{r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp, r.r8,     r.r9,
                   r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip, r.rflags};
}

tl::expected<void, KvmError> Vcpu::set_registers(const Registers& g) {
  kvm_regs r{};
  r.rax = g.rax, r.rbx = g.rbx, r.rcx = g.rcx, r.rdx = g.rdx, r.rsi = g.rsi, r.rdi = g.rdi;
  r.rsp = g.rsp, r.rbp = g.rbp, r.r8 = g.r8, r.r9 = g.r9, r.r10 = g.r10, r.r11 = g.r11;
  r.r12 = g.r12, r.r13 = g.r13, r.r14 = g.r14, r.r15 = g.r15, r.rip = g.rip, r.rflags = g.rflags;
  if (::ioctl(fd_.get(), KVM_SET_REGS, &r) != 0) {
    return tl::unexpected(ioctl_error("KVM_SET_REGS"));
  }
  return {};
}

tl::expected<SpecialRegisters, KvmError> Vcpu::special_registers() const {
  kvm_sregs s{};
  if (::ioctl(fd_.get(), KVM_GET_SREGS, &s) != 0) {
    return tl::unexpected(ioctl_error("KVM_GET_SREGS"));
  }
  SpecialRegisters out;
  out.cs = from_kvm(s.cs), out.ds = from_kvm(s.ds), out.es = from_kvm(s.es), out.fs = from_kvm(s.fs);
  out.gs = from_kvm(s.gs), out.ss = from_kvm(s.ss), out.tr = from_kvm(s.tr), out.ldt = from_kvm(s.ldt);
  out.gdt = {s.gdt.base, s.gdt.limit};
  out.idt = {s.idt.base, s.idt.limit};
  out.cr0 = s.cr0, out.cr2 = s.cr2, out.cr3 = s.cr3, out.cr4 = s.cr4, out.cr8 = s.cr8;
  out.efer = s.efer, out.apic_base = s.apic_base;
  return out;
}

tl::expected<void, KvmError> Vcpu::set_special_registers(const SpecialRegisters& in) {
  // Read-modify-write keeps the interrupt bitmap and fields tilehv does not model.
  kvm_sregs s{};
  if (::ioctl(fd_.get(), KVM_GET_SREGS, &s) != 0) {
    return tl::unexpected(ioctl_error("KVM_GET_SREGS"));
  }
  s.cs = to_kvm(in.cs), s.ds = to_kvm(in.ds), s.es = to_kvm(in.es), s.fs = to_kvm(in.fs);
  s.gs = to_kvm(in.gs), s.ss = to_kvm(in.ss), s.tr = to_kvm(in.tr), s.ldt = to_kvm(in.ldt);
  s.gdt.base = in.gdt.base, s.gdt.limit = in.gdt.limit;
  s.idt.base = in.idt.base, s.idt.limit = in.idt.limit;
  s.cr0 = in.cr0, s.cr2 = in.cr2, s.cr3 = in.cr3, s.cr4 = in.cr4, s.cr8 = in.cr8;
  s.efer = in.efer, s.apic_base = in.apic_base;
  if (::ioctl(fd_.get(), KVM_SET_SREGS, &s) != 0) {
    return tl::unexpected(ioctl_error("KVM_SET_SREGS"));
  }
  return {};
}

tl::expected<void, KvmError> Vcpu::set_fpu(const FpuState& fpu) {
  kvm_fpu f{};
  f.fcw = fpu.fcw;
  f.mxcsr = fpu.mxcsr;
  if (::ioctl(fd_.get(), KVM_SET_FPU, &f) != 0) {
    return tl::unexpected(ioctl_error("KVM_SET_FPU"));
  }
  return {};
}

tl::expected<void, KvmError> Vcpu::set_cpuid(std::span<const CpuidEntry> entries) {
  abi::CpuidBuffer buffer(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const CpuidEntry& e = entries[i];
    kvm_cpuid_entry2& k = buffer.entries()[i];
    k.function = e.function, k.index = e.index, k.flags = e.flags;
    k.eax = e.eax, k.ebx = e.ebx, k.ecx = e.ecx, k.edx = e.edx;
  }
  if (::ioctl(fd_.get(), abi::kSetCpuid2, buffer.data()) != 0) {
    return tl::unexpected(ioctl_error("KVM_SET_CPUID2"));
  }
  return {};
}

tl::expected<std::uint32_t, KvmError> Vcpu::tsc_khz() const {
  const int khz = ::ioctl(fd_.get(), KVM_GET_TSC_KHZ, 0);
  if (khz <= 0) {
    return tl::unexpected(ioctl_error("KVM_GET_TSC_KHZ"));
  }
  return static_cast<std::uint32_t>(khz);
}

std::optional<std::uint64_t> Vcpu::translate(std::uint64_t linear) const {
  kvm_translation t{};
  t.linear_address = linear;
  if (::ioctl(fd_.get(), KVM_TRANSLATE, &t) != 0 || t.valid == 0) {
    return std::nullopt;
  }
  return t.physical_address;
}

}  // namespace tilehv::kvm
