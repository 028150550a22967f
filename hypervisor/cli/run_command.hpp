// Run command: boots one partition from the command line and waits for its end.
#pragma once

#include <optional>
#include <string>

#include "cli/run_options.hpp"
#include "jail/jail_options.hpp"
#include "vmm/vmm.hpp"

namespace tilehv::cli {

struct RunRequest {
  vmm::VmmConfig vmm;
  ConsoleTarget console;
  std::uint64_t console_limit_bytes = kConsoleFileLimit;  // a console file stops growing here
  std::optional<double> timeout_seconds;
  std::string plane;  // the plane link (open_plane_link syntax); empty: none
  std::string control_path;     // the control socket to serve (control_server.hpp); empty: none
  std::string end_report_path;  // where to write why the VM ended, as JSON; empty: nowhere
  std::optional<jail::JailOptions> jail;  // enter the jail once the VM is made; nullopt: run unjailed
};

// Runs the partition to its end and returns the process exit status (vmm/exit_status.hpp). Errors
// and abnormal ends are reported as one line on stderr.
[[nodiscard]] int run_partition(RunRequest request);

}  // namespace tilehv::cli
