// Exit status: how `tilehv run` reports the way a partition ended, as a process exit status.
#pragma once

namespace tilehv::vmm {

// 0..100 are the guest's own exit value (written to the exit port). Everything the VMM reports
// itself lies in 101..124: below 125, so a shell never mistakes one for a death by signal (126+).
inline constexpr int kMaxGuestExitValue = 100;

enum ExitStatus : int {
  kExitGuestValueOutOfRange = 101,  // the guest wrote an exit value above 100
  kExitGuestReset = 102,            // the guest asked for a CPU reset (i8042 or KVM reset event)
  kExitTripleFault = 103,           // the guest triple-faulted (KVM shutdown exit)
  kExitInternalError = 104,         // KVM could not run or emulate the guest (internal error)
  kExitVcpuFailure = 105,           // failed VM entry, or an exit this VMM cannot handle
  kExitTimeout = 106,               // --timeout expired
  kExitBadImage = 107,              // the kernel image or a module was refused
  kExitUsage = 108,                 // invalid command line
  kExitHostError = 109,             // KVM unavailable, out of memory, or another host failure
  kExitStopped = 110,               // stopped on request (SIGINT, SIGTERM, a stop call)
  kExitGuestCrash = 111,            // the guest reported a crash (KVM crash event)
};

}  // namespace tilehv::vmm
