// End report: why a partition's VM ended, written by its VMM as one JSON object to a file the tile
// daemon named. The daemon reads it even when it was not the VMM's parent (after its own restart),
// so it learns a guest's exit value, fault or internal error without waitpid(). A VMM that dies
// without writing one crashed or was killed.
//
//   {"version":1,"kind":"triple-fault","guest_value":0,"exit_status":103,"detail":"..."}
#pragma once

#include <string>

#include <tl/expected.hpp>

#include "util/unique_fd.hpp"
#include "vmm/vm_end.hpp"

namespace tilehv::cli {

// Opens (creates or truncates) the report file; called before the VMM enters its jail.
[[nodiscard]] tl::expected<util::UniqueFd, std::string> open_end_report(const std::string& path);
// Writes the report; failures are ignored (the daemon then reports a VMM end without a report).
void write_end_report(int fd, const vmm::VmEnd& end) noexcept;

}  // namespace tilehv::cli
