// Jail options: who a jailed VMM becomes and how much it may use, and their command-line form.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace tilehv::jail {

struct JailOptions {
  uid_t uid = 0;  // never 0: root would undo the jail
  gid_t gid = 0;  // never 0
  std::uint64_t max_file_bytes = 0;   // RLIMIT_FSIZE: no file the VMM writes grows past this
  std::uint32_t max_threads = 0;      // RLIMIT_NPROC of the VMM's own uid: its vCPUs and helpers
  std::uint32_t max_open_files = 256; // RLIMIT_NOFILE: descriptors received later (plane link)
  // An existing directory on which the new, empty root is mounted before it becomes "/". The mount
  // is in the VMM's own mount namespace: nobody else sees it.
  std::string mount_point = "/tmp";
};

// "uid=N,gid=N" (the `--jail` option's value; both required, neither 0) into options with these ids.
[[nodiscard]] tl::expected<JailOptions, std::string> parse_jail_ids(std::string_view text);
// The `--jail` option's value for these ids.
[[nodiscard]] std::string format_jail_ids(uid_t uid, gid_t gid);

}  // namespace tilehv::jail
