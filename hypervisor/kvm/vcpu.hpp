// Vcpu: one KVM virtual CPU: its fd, its shared run structure, and its register state.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include <tl/expected.hpp>

#include "kvm/cpu_state.hpp"
#include "kvm/kvm_error.hpp"
#include "kvm/vcpu_exit.hpp"
#include "util/mapping.hpp"
#include "util/unique_fd.hpp"

struct kvm_run;

namespace tilehv::kvm {

class Vcpu {
 public:
  [[nodiscard]] static tl::expected<Vcpu, KvmError> create(int vm_fd, std::uint32_t id,
                                                           std::size_t mmap_size);

  // Enters the guest until the next exit. Runs on the vCPU's own thread only.
  [[nodiscard]] tl::expected<VcpuExit, KvmError> run() noexcept;

  // Makes the current or next run() return InterruptedExit at once. Safe from any thread; the
  // caller then signals the vCPU thread to interrupt a run already in the guest.
  void request_immediate_exit() noexcept;
  void clear_immediate_exit() noexcept;

  [[nodiscard]] tl::expected<Registers, KvmError> registers() const;
  [[nodiscard]] tl::expected<void, KvmError> set_registers(const Registers& regs);
  [[nodiscard]] tl::expected<SpecialRegisters, KvmError> special_registers() const;
  [[nodiscard]] tl::expected<void, KvmError> set_special_registers(const SpecialRegisters& sregs);
  [[nodiscard]] tl::expected<void, KvmError> set_fpu(const FpuState& fpu);
  [[nodiscard]] tl::expected<void, KvmError> set_cpuid(std::span<const CpuidEntry> entries);

  // The guest TSC frequency in kHz.
  [[nodiscard]] tl::expected<std::uint32_t, KvmError> tsc_khz() const;

  // Translates a guest-linear address with the vCPU's current paging; nullopt if not mapped.
  [[nodiscard]] std::optional<std::uint64_t> translate(std::uint64_t linear) const;

  [[nodiscard]] std::uint32_t id() const noexcept { return id_; }

 private:
  Vcpu(util::UniqueFd fd, util::Mapping run, std::uint32_t id)
      : fd_(std::move(fd)), run_mapping_(std::move(run)), id_(id) {}

  [[nodiscard]] kvm_run* run_struct() const noexcept;

  util::UniqueFd fd_;
  util::Mapping run_mapping_;
  std::uint32_t id_;
};

}  // namespace tilehv::kvm
