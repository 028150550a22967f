// Jail setup: the VMM shuts itself in, after it opened everything its VM needs and before the guest
// runs: an empty read-only root, its own uid and gid, no capabilities, rlimits, and the seccomp filter.
#pragma once

#include <string>

#include <tl/expected.hpp>

#include "jail/jail_options.hpp"

namespace tilehv::jail {

// Must run before the process starts any thread. Needs root (CAP_SYS_ADMIN, CAP_SETUID, ...), which
// it gives up here for good. Mount changes happen in a mount namespace of the process's own (made
// here if the process was not started in one), so nothing outside changes. On error the process is
// left half-jailed and must exit.
[[nodiscard]] tl::expected<void, std::string> enter_jail(const JailOptions& options);

}  // namespace tilehv::jail
