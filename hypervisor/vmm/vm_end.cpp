// VmEnd: why a partition stopped running, and how that is reported.
#include "vmm/vm_end.hpp"

#include <fmt/format.h>

#include "vmm/exit_status.hpp"

namespace tilehv::vmm {

int exit_status_for(const VmEnd& end) noexcept {
  switch (end.kind) {
    case VmEnd::Kind::kGuestExit:
      return end.guest_value <= static_cast<std::uint32_t>(kMaxGuestExitValue) ? static_cast<int>(end.guest_value)
                                                                              : kExitGuestValueOutOfRange;
    case VmEnd::Kind::kGuestPowerOff:
      return 0;
    case VmEnd::Kind::kGuestReset:
      return kExitGuestReset;
    case VmEnd::Kind::kGuestCrash:
      return kExitGuestCrash;
    case VmEnd::Kind::kTripleFault:
      return kExitTripleFault;
    case VmEnd::Kind::kInternalError:
      return kExitInternalError;
    case VmEnd::Kind::kVcpuFailure:
      return kExitVcpuFailure;
    case VmEnd::Kind::kTimeout:
      return kExitTimeout;
    case VmEnd::Kind::kStopped:
      return kExitStopped;
  }
  return kExitVcpuFailure;
}

const char* kind_name(VmEnd::Kind kind) noexcept {
  switch (kind) {
    case VmEnd::Kind::kGuestExit: return "guest-exit";
    case VmEnd::Kind::kGuestPowerOff: return "guest-power-off";
    case VmEnd::Kind::kGuestReset: return "guest-reset";
    case VmEnd::Kind::kGuestCrash: return "guest-crash";
    case VmEnd::Kind::kTripleFault: return "triple-fault";
    case VmEnd::Kind::kInternalError: return "internal-error";
    case VmEnd::Kind::kVcpuFailure: return "vcpu-failure";
    case VmEnd::Kind::kTimeout: return "timeout";
    case VmEnd::Kind::kStopped: return "stopped";
  }
  return "unknown";
}

std::string describe(const VmEnd& end) {
  const auto with = [&](const char* what) {
    return end.detail.empty() ? std::string(what) : fmt::format("{}: {}", what, end.detail);
  };
  switch (end.kind) {
    case VmEnd::Kind::kGuestExit:
      if (end.guest_value > static_cast<std::uint32_t>(kMaxGuestExitValue)) {
        return fmt::format("guest exit value {} is above {}; reported as status {}", end.guest_value,
                           kMaxGuestExitValue, static_cast<int>(kExitGuestValueOutOfRange));
      }
      return {};
    case VmEnd::Kind::kGuestPowerOff:
      return {};
    case VmEnd::Kind::kGuestReset:
      return with("guest requested a reset");
    case VmEnd::Kind::kGuestCrash:
      return with("guest reported a crash");
    case VmEnd::Kind::kTripleFault:
      return with("guest triple-faulted");
    case VmEnd::Kind::kInternalError:
      return with("KVM internal error");
    case VmEnd::Kind::kVcpuFailure:
      return with("vCPU failure");
    case VmEnd::Kind::kTimeout:
      return with("timeout");
    case VmEnd::Kind::kStopped:
      return with("stopped");
  }
  return with("ended");
}

}  // namespace tilehv::vmm
