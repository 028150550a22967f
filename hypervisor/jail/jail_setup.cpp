// Jail setup: the steps in the order the kernel's rules demand (mounts and capability bounding need
// root; the ids change next; the filter comes last, so the steps before it need no allow-list entry).
#include "jail/jail_setup.hpp"

#include <grp.h>
#include <sched.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include <fmt/format.h>

#include "jail/seccomp_filter.hpp"
#include "util/errno_text.hpp"

namespace tilehv::jail {
namespace {

tl::expected<void, std::string> failed(std::string_view step) {
  return tl::unexpected(fmt::format("{}: {}", step, util::errno_text(errno)));
}

// The new root: an empty tmpfs, too small to hold anything, later read-only.
tl::expected<void, std::string> enter_empty_root(const std::string& mount_point) {
  // A namespace of our own, so that nothing below reaches the parent's mounts even when the process
  // was not started in a fresh one; propagation off, so our mounts do not travel back either.
  if (::unshare(CLONE_NEWNS) != 0) return failed("unshare(CLONE_NEWNS)");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return failed("making mounts private");
  constexpr unsigned long kFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (::mount("tilehv-root", mount_point.c_str(), "tmpfs", kFlags, "size=16k,nr_inodes=8,mode=0555") != 0) {
    return failed(fmt::format("mounting the new root on {}", mount_point));
  }
  if (::chdir(mount_point.c_str()) != 0) return failed("chdir to the new root");
  // pivot_root(".", "."): the old root ends up stacked on the new one and is detached right away
  // (pivot_root(2), "NOTES"); no directory for it is needed.
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return failed("pivot_root");
  if (::umount2(".", MNT_DETACH) != 0) return failed("detaching the old root");
  if (::chdir("/") != 0) return failed("chdir /");
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | kFlags, nullptr) != 0) {
    return failed("remounting the new root read-only");
  }
  return {};
}

// The bounding set and ambient capabilities can only be dropped while CAP_SETPCAP is held.
tl::expected<void, std::string> drop_bounding_and_ambient() {
  // cap_max_bits: every capability this kernel knows, including ones newer than our headers.
  for (cap_value_t cap = 0; cap < static_cast<cap_value_t>(::cap_max_bits()); ++cap) {
    if (::cap_drop_bound(cap) != 0) return failed(fmt::format("dropping capability {} from the bounding set", cap));
  }
  if (::cap_reset_ambient() != 0) return failed("clearing ambient capabilities");
  return {};
}

tl::expected<void, std::string> become(uid_t uid, gid_t gid) {
  if (::setgroups(0, nullptr) != 0) return failed("setgroups");
  if (::setresgid(gid, gid, gid) != 0) return failed(fmt::format("setresgid {}", gid));
  if (::setresuid(uid, uid, uid) != 0) return failed(fmt::format("setresuid {}", uid));
  // setresuid cleared the permitted and effective sets; inheritable goes too, and the result is checked.
  cap_t none = ::cap_init();
  if (none == nullptr) return failed("cap_init");
  const int set = ::cap_set_proc(none);
  ::cap_free(none);
  if (set != 0) return failed("clearing capabilities");
  return {};
}

tl::expected<void, std::string> set_limit(int resource, std::string_view name, rlim_t value) {
  const rlimit limit{value, value};
  if (::setrlimit(resource, &limit) != 0) return failed(fmt::format("setrlimit {} {}", name, value));
  return {};
}

tl::expected<void, std::string> set_limits(const JailOptions& options) {
  // A core dump would hold guest memory; nothing here locks memory or uses POSIX message queues.
  if (auto r = set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0); !r) return r;
  if (auto r = set_limit(RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", 0); !r) return r;
  if (auto r = set_limit(RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", 0); !r) return r;
  if (auto r = set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", options.max_file_bytes); !r) return r;
  if (auto r = set_limit(RLIMIT_NPROC, "RLIMIT_NPROC", options.max_threads); !r) return r;
  return set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", options.max_open_files);
}

}  // namespace

tl::expected<void, std::string> enter_jail(const JailOptions& options) {
  if (options.uid == 0 || options.gid == 0) return tl::unexpected(std::string("the jail's uid and gid must not be 0"));
  if (options.max_threads == 0 || options.max_file_bytes == 0 || options.max_open_files == 0) {
    return tl::unexpected(std::string("the jail's thread, file size and descriptor limits must be set"));
  }
  if (auto r = enter_empty_root(options.mount_point); !r) return r;
  if (auto r = drop_bounding_and_ambient(); !r) return r;
  if (auto r = become(options.uid, options.gid); !r) return r;
  // Not dumpable: processes of the same uid cannot ptrace it or read its memory through /proc.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return failed("PR_SET_DUMPABLE");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failed("PR_SET_NO_NEW_PRIVS");
  // Past RLIMIT_FSIZE a write fails with EFBIG instead of killing the VMM with SIGXFSZ.
  if (::signal(SIGXFSZ, SIG_IGN) == SIG_ERR) return failed("ignoring SIGXFSZ");
  if (auto r = set_limits(options); !r) return r;
  return install_vmm_filter();
}

}  // namespace tilehv::jail
