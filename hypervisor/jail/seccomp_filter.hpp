// Seccomp filter: the system calls a running VMM may make, and nothing else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace tilehv::jail {

// One entry of the allow-list, with the reason tilehv needs it (docs/jail.md shows the list).
struct AllowedCall {
  std::string_view name;   // the system call, or "ioctl KVM_..." for an ioctl request
  std::string_view reason;
  std::string_view condition;  // what its arguments must be; empty: any
};

[[nodiscard]] std::vector<AllowedCall> vmm_allow_list();

// Installs the filter on the calling process (every thread that exists and every thread it makes):
// a call outside the list kills the whole process with SIGSYS (the kernel logs it with the call's
// number). Needs no_new_privs or CAP_SYS_ADMIN; sets no_new_privs itself.
[[nodiscard]] tl::expected<void, std::string> install_vmm_filter();

}  // namespace tilehv::jail
