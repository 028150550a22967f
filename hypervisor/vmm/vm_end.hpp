// VmEnd: why a partition stopped running, and how that is reported.
#pragma once

#include <cstdint>
#include <string>

namespace tilehv::vmm {

struct VmEnd {
  enum class Kind {
    kGuestExit,      // the guest wrote its exit value
    kGuestPowerOff,  // KVM system event: shutdown
    kGuestReset,     // i8042 reset or KVM reset event
    kGuestCrash,     // KVM crash event
    kTripleFault,
    kInternalError,
    kVcpuFailure,    // failed entry, KVM_RUN error, or an exit this VMM cannot handle
    kTimeout,
    kStopped,        // stop requested by the host
  };

  Kind kind = Kind::kStopped;
  std::uint32_t guest_value = 0;  // for kGuestExit
  std::string detail;             // one line with the evidence (vCPU, registers, instruction bytes)
};

// The process exit status `tilehv run` reports for `end` (see exit_status.hpp).
[[nodiscard]] int exit_status_for(const VmEnd& end) noexcept;

// The kind as a word for reports and journals: "guest-exit", "triple-fault", ...
[[nodiscard]] const char* kind_name(VmEnd::Kind kind) noexcept;

// One line for stderr, empty for a clean guest exit.
[[nodiscard]] std::string describe(const VmEnd& end);

}  // namespace tilehv::vmm
