// VcpuRunner: one vCPU's exit loop: run the guest, dispatch each exit to its bus or verdict, obey
// pause and stop.
#include "vmm/vcpu_runner.hpp"

#include <csignal>
#include <variant>

#include <fmt/format.h>

#include "memory/memory_layout.hpp"
#include "vmm/vcpu_kick.hpp"

namespace tilehv::vmm {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// Needed by compilers without aggregate deduction for this pattern (clang 14).
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

const char* internal_error_name(kvm::InternalErrorExit::Kind kind) {
  switch (kind) {
    case kvm::InternalErrorExit::Kind::kEmulation:
      return "instruction emulation failed";
    case kvm::InternalErrorExit::Kind::kSimultaneousExceptions:
      return "simultaneous exceptions";
    case kvm::InternalErrorExit::Kind::kDeliveryEvent:
      return "exit while delivering an event";
    case kvm::InternalErrorExit::Kind::kUnexpectedExitReason:
      return "unexpected hardware exit reason";
    case kvm::InternalErrorExit::Kind::kOther:
      break;
  }
  return "unknown suberror";
}

std::string hex_bytes(const std::uint8_t* bytes, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += fmt::format("{}{:02x}", i == 0 ? "" : " ", bytes[i]);
  return s;
}

}  // namespace

void VcpuRunner::run_loop() noexcept {
  {
    std::lock_guard lock(thread_mutex_);
    thread_ = ::pthread_self();
    thread_running_ = true;
  }
  for (;;) {
    // Clear the flag before reading the request: a kick stores the request first and the flag
    // second, so either we see the request now or the next KVM_RUN returns at once.
    vcpu_.clear_immediate_exit();
    RunRequest request = control_.request();
    if (request == RunRequest::kPause) {
      request = control_.park();
    }
    if (request == RunRequest::kStop) break;
    if (request == RunRequest::kPause) continue;

    auto exit = vcpu_.run();
    metrics_.exits.fetch_add(1, std::memory_order_relaxed);
    if (!exit) {
      end(VmEnd::Kind::kVcpuFailure, fmt::format("vcpu {}: {}", vcpu_.id(), exit.error().message));
      break;
    }
    if (handle(*exit) == Next::kEnd) break;
  }
  {
    std::lock_guard lock(thread_mutex_);
    thread_running_ = false;
  }
  control_.vcpu_exited();
}

void VcpuRunner::kick() noexcept {
  vcpu_.request_immediate_exit();
  std::lock_guard lock(thread_mutex_);
  if (thread_running_) {
    ::pthread_kill(thread_, kick_signal());
  }
}

VcpuRunner::Next VcpuRunner::handle(const kvm::VcpuExit& exit) noexcept {
  return std::visit(
      Overloaded{
          [&](const kvm::IoExit& io) {
            handle_io(io);
            return Next::kContinue;
          },
          [&](const kvm::MmioExit& mmio) {
            handle_mmio(mmio);
            return Next::kContinue;
          },
          [&](const kvm::InterruptedExit&) {
            metrics_.interrupted.fetch_add(1, std::memory_order_relaxed);
            return Next::kContinue;
          },
          [&](const kvm::IoapicEoiExit& e) {
            // The guest ended a level-triggered interrupt: the IOAPIC re-delivers a line still high.
            ioapic_.end_of_interrupt(e.vector);
            return Next::kContinue;
          },
          [&](const kvm::ShutdownExit&) {
            end(VmEnd::Kind::kTripleFault, fmt::format("vcpu {}: {}", vcpu_.id(), shutdown_registers()));
            return Next::kEnd;
          },
          [&](const kvm::InternalErrorExit& e) {
            end(VmEnd::Kind::kInternalError, internal_error_detail(e));
            return Next::kEnd;
          },
          [&](const kvm::FailEntryExit& e) {
            end(VmEnd::Kind::kVcpuFailure,
                fmt::format("vcpu {}: VM entry failed, hardware reason {:#x} on host cpu {}; {}", vcpu_.id(),
                            e.hardware_reason, e.cpu, register_summary()));
            return Next::kEnd;
          },
          [&](const kvm::SystemEventExit& e) {
            switch (e.kind) {
              case kvm::SystemEventExit::Kind::kShutdown:
                end(VmEnd::Kind::kGuestPowerOff, {});
                break;
              case kvm::SystemEventExit::Kind::kReset:
                end(VmEnd::Kind::kGuestReset, fmt::format("vcpu {}: KVM reset event", vcpu_.id()));
                break;
              case kvm::SystemEventExit::Kind::kCrash:
                end(VmEnd::Kind::kGuestCrash, fmt::format("vcpu {}: KVM crash event", vcpu_.id()));
                break;
              case kvm::SystemEventExit::Kind::kOther:
                end(VmEnd::Kind::kVcpuFailure,
                    fmt::format("vcpu {}: unknown KVM system event {}", vcpu_.id(), e.raw_type));
                break;
            }
            return Next::kEnd;
          },
          [&](const kvm::HaltExit&) {
            // With the LAPIC in the kernel, KVM handles HLT itself; this exit means a broken setup.
            end(VmEnd::Kind::kVcpuFailure, fmt::format("vcpu {}: unexpected HLT exit", vcpu_.id()));
            return Next::kEnd;
          },
          [&](const kvm::UnexpectedExit& e) {
            end(VmEnd::Kind::kVcpuFailure,
                fmt::format("vcpu {}: unexpected KVM exit reason {}; {}", vcpu_.id(), e.reason, register_summary()));
            return Next::kEnd;
          },
      },
      exit);
}

void VcpuRunner::handle_io(const kvm::IoExit& io) noexcept {
  metrics_.io_exits.fetch_add(1, std::memory_order_relaxed);
  const auto match = pio_.find(io.port, io.size);
  if (!match) {
    metrics_.unhandled_io.fetch_add(1, std::memory_order_relaxed);
    if (!io.is_write) {
      std::fill(io.data.begin(), io.data.end(), std::uint8_t{0xff});  // open bus
    }
    return;
  }
  if (io.size == 0) return;  // KVM reports 1, 2 or 4; a zero size could never advance the loops below
  const auto offset = static_cast<std::uint16_t>(match->offset);
  if (io.is_write) {
    if (io.count > 1) {
      match->device->pio_write_string(offset, io.size, io.data);
    } else {
      match->device->pio_write(offset, io.data);
    }
    return;
  }
  for (std::size_t i = 0; i + io.size <= io.data.size(); i += io.size) {
    match->device->pio_read(offset, io.data.subspan(i, io.size));
  }
}

void VcpuRunner::handle_mmio(const kvm::MmioExit& mmio) noexcept {
  metrics_.mmio_exits.fetch_add(1, std::memory_order_relaxed);
  const auto match = mmio_.find(mmio.address, mmio.data.size());
  if (!match) {
    metrics_.unhandled_mmio.fetch_add(1, std::memory_order_relaxed);
    if (!mmio.is_write) {
      std::fill(mmio.data.begin(), mmio.data.end(), std::uint8_t{0xff});
    }
    return;
  }
  if (mmio.is_write) {
    match->device->mmio_write(match->offset, mmio.data);
  } else {
    match->device->mmio_read(match->offset, mmio.data);
  }
}

void VcpuRunner::end(VmEnd::Kind kind, std::string detail) noexcept {
  end_sink_.end_vm(VmEnd{kind, 0, std::move(detail)});
}

std::string VcpuRunner::register_summary() const {
  auto regs = vcpu_.registers();
  auto sregs = vcpu_.special_registers();
  if (!regs || !sregs) {
    return "registers unavailable";
  }
  return fmt::format("rip {:#x} rsp {:#x} rflags {:#x} cr0 {:#x} cr2 {:#x} cr3 {:#x} cr4 {:#x} efer {:#x}",
                     regs->rip, regs->rsp, regs->rflags, sregs->cr0, sregs->cr2, sregs->cr3, sregs->cr4,
                     sregs->efer);
}

std::string VcpuRunner::shutdown_registers() const {
  // On AMD, KVM resets the vCPU after a shutdown intercept (the VMCB is undefined then), so what we
  // read is the reset state, not where the guest faulted. Say so rather than report it as evidence.
  auto regs = vcpu_.registers();
  auto sregs = vcpu_.special_registers();
  constexpr std::uint64_t kResetRip = 0xfff0;
  constexpr std::uint64_t kResetCsBase = 0xffff0000;
  if (regs && sregs && regs->rip == kResetRip && sregs->cs.base == kResetCsBase && (sregs->cr0 & 1) == 0) {
    return "registers lost: the host's KVM reset the vCPU on shutdown";
  }
  return register_summary();
}

std::string VcpuRunner::instruction_bytes_at_rip() const {
  auto regs = vcpu_.registers();
  auto sregs = vcpu_.special_registers();
  if (!regs || !sregs) return "instruction bytes unavailable (registers unreadable)";
  // In long mode the code segment base is ignored; otherwise it is part of the linear address.
  const bool long_mode = sregs->cs.l;
  const std::uint64_t linear = long_mode ? regs->rip : sregs->cs.base + regs->rip;
  std::uint8_t bytes[15] = {};
  std::size_t got = 0;
  while (got < sizeof bytes) {
    const auto gpa = vcpu_.translate(linear + got);
    if (!gpa) break;
    const std::uint64_t to_page_end = memory::kPageSize - ((linear + got) % memory::kPageSize);
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(to_page_end, sizeof bytes - got));
    if (!memory_.read(*gpa, std::span<std::uint8_t>(bytes + got, n))) {
      if (got == 0) {
        return fmt::format("instruction bytes unavailable: rip {:#x} maps to {:#x}, which is not guest RAM",
                           regs->rip, *gpa);
      }
      break;
    }
    got += n;
  }
  if (got == 0) return fmt::format("instruction bytes unavailable: rip {:#x} is not mapped", regs->rip);
  return "instruction bytes " + hex_bytes(bytes, got);
}

std::string VcpuRunner::internal_error_detail(const kvm::InternalErrorExit& e) const {
  std::string data;
  for (std::uint32_t i = 0; i < e.ndata; ++i) data += fmt::format(" {:#x}", e.data[i]);
  const std::string insn = e.instruction_size > 0
                               ? "instruction bytes " + hex_bytes(e.instruction.data(), e.instruction_size)
                               : instruction_bytes_at_rip();
  return fmt::format("vcpu {}: {} (suberror {}); {}; {}; data{}", vcpu_.id(), internal_error_name(e.kind),
                     e.suberror, insn, register_summary(), data.empty() ? " none" : data);
}

}  // namespace tilehv::vmm
