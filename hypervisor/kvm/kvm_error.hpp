// KvmError: why an operation on /dev/kvm, a VM or a vCPU failed.
#pragma once

#include <string>

namespace tilehv::kvm {

enum class KvmErrc {
  kNoDevice,           // /dev/kvm does not exist
  kNoPermission,       // /dev/kvm exists but cannot be opened
  kApiVersion,         // the kernel speaks another KVM API version
  kMissingCapability,  // a capability tilehv relies on is absent
  kIoctlFailed,        // an ioctl returned an error
  kMapFailed,          // mmap of a vCPU run structure failed
};

struct KvmError {
  KvmErrc code;
  int sys_errno;        // errno of the failing call, 0 when not a system call failure
  std::string message;  // one line, names the operation and the cause
};

}  // namespace tilehv::kvm
