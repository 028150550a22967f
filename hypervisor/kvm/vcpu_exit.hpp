// VcpuExit: why KVM_RUN returned, as a closed set of values.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <variant>

namespace tilehv::kvm {

// Port I/O. For string I/O (rep ins/outs) one exit carries `count` elements of `size` bytes each.
// `data` points into the vCPU's run structure and is valid until the next run.
struct IoExit {
  bool is_write = false;
  std::uint16_t port = 0;
  std::uint8_t size = 0;  // 1, 2 or 4
  std::uint32_t count = 0;
  std::span<std::uint8_t> data;
};

// Memory-mapped I/O to a guest-physical address without memory behind it.
struct MmioExit {
  bool is_write = false;
  std::uint64_t address = 0;
  std::span<std::uint8_t> data;  // 1..8 bytes
};

struct HaltExit {};
struct ShutdownExit {};  // triple fault

struct InternalErrorExit {
  enum class Kind { kEmulation, kSimultaneousExceptions, kDeliveryEvent, kUnexpectedExitReason, kOther };
  Kind kind = Kind::kOther;
  std::uint32_t suberror = 0;
  std::uint32_t ndata = 0;
  std::array<std::uint64_t, 16> data{};
  // For emulation failures on kernels that report them: the instruction KVM could not emulate.
  std::uint8_t instruction_size = 0;
  std::array<std::uint8_t, 15> instruction{};
};

struct FailEntryExit {
  std::uint64_t hardware_reason = 0;
  std::uint32_t cpu = 0;
};

struct SystemEventExit {
  enum class Kind { kShutdown, kReset, kCrash, kOther };
  Kind kind = Kind::kOther;
  std::uint32_t raw_type = 0;
};

struct IoapicEoiExit {
  std::uint8_t vector = 0;
};

// KVM_RUN was interrupted by a signal or immediate_exit: the VMM asked the vCPU to come out.
struct InterruptedExit {};

// An exit tilehv does not expect with its configuration; the raw reason is reported.
struct UnexpectedExit {
  std::uint32_t reason = 0;
};

using VcpuExit = std::variant<IoExit, MmioExit, HaltExit, ShutdownExit, InternalErrorExit,
                              FailEntryExit, SystemEventExit, IoapicEoiExit, InterruptedExit,
                              UnexpectedExit>;

}  // namespace tilehv::kvm
