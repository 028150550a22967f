// Spawn: clone into new namespaces, join the cgroup, arrange descriptors, exec.
#include "jail/spawn.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "util/errno_text.hpp"

namespace tilehv::jail {
namespace {

// The child runs on this stack only until exec, a handful of system calls deep.
constexpr std::size_t kChildStackBytes = 64 * 1024;
// Child exit statuses before exec (the parent reports the cause; these only tell them apart).
constexpr int kChildNotReleased = 126;
constexpr int kChildSetupFailed = 127;

// Everything the child needs, prepared by the parent: after clone the child may only make
// async-signal-safe calls (the parent may have other threads holding locks, e.g. malloc's).
struct ChildPlan {
  const char* path = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const char* hostname = nullptr;
  std::size_t hostname_length = 0;
  int go_fd = -1;      // one byte arrives once the child sits in its cgroup
  int report_fd = -1;  // the child writes errno here if it cannot exec; closed by a successful exec
  std::array<int, 3 + kMaxKeptFds> sources{};  // what becomes fd 0, 1, 2, 3, ...
  std::size_t count = 0;
};

[[noreturn]] void child_fail(const ChildPlan& plan, int err) {
  const ssize_t ignored = ::write(plan.report_fd, &err, sizeof err);
  (void)ignored;
  ::_exit(kChildSetupFailed);
}

int child_main(void* arg) {
  const ChildPlan& plan = *static_cast<const ChildPlan*>(arg);
  char go = 0;
  ssize_t got = 0;
  do got = ::read(plan.go_fd, &go, 1); while (got < 0 && errno == EINTR);
  if (got != 1) ::_exit(kChildNotReleased);
  // A session of its own: the supervisor's terminal and process group signals do not reach it.
  if (::setsid() < 0) child_fail(plan, errno);
  if (::sethostname(plan.hostname, plan.hostname_length) != 0) child_fail(plan, errno);
  // Signals blocked or ignored by the supervisor must not stay so in the program.
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) child_fail(plan, errno);
  for (int signo = 1; signo < NSIG; ++signo) {
    if (signo != SIGKILL && signo != SIGSTOP) ::signal(signo, SIG_DFL);
  }
  // Move every source above the targets first, so that no dup2 overwrites a source still needed.
  const int first_free = static_cast<int>(plan.count);
  std::array<int, 3 + kMaxKeptFds> moved{};
  int report = ::fcntl(plan.report_fd, F_DUPFD_CLOEXEC, first_free);
  if (report < 0) child_fail(plan, errno);
  ChildPlan reporting = plan;
  reporting.report_fd = report;
  for (std::size_t i = 0; i < plan.count; ++i) {
    moved[i] = ::fcntl(plan.sources[i], F_DUPFD_CLOEXEC, first_free);
    if (moved[i] < 0) child_fail(reporting, errno);
  }
  for (std::size_t i = 0; i < plan.count; ++i) {
    if (::dup2(moved[i], static_cast<int>(i)) < 0) child_fail(reporting, errno);
  }
  // Everything else closes at exec (the report descriptor only then, so it can still carry an error).
  if (::close_range(static_cast<unsigned>(first_free), ~0U, CLOSE_RANGE_CLOEXEC) != 0) child_fail(reporting, errno);
  ::execve(plan.path, plan.argv, plan.envp);
  child_fail(reporting, errno);
}

tl::expected<ProcessEnd, std::string> reap(int pidfd, int options) {
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | options) != 0) {
    if (errno != EINTR) return tl::unexpected("waitid: " + util::errno_text(errno));
  }
  ProcessEnd end;
  if (info.si_pid == 0) return end;  // WNOHANG and still running; the caller tells by si_pid
  end.exited = info.si_code == CLD_EXITED;
  (end.exited ? end.status : end.signal) = info.si_status;
  return end;
}

tl::expected<void, std::string> check_spec(const JailSpec& spec, const std::vector<std::string>& argv) {
  if (auto n = check_group_name(spec.name); !n) return n;
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return tl::unexpected(std::string("the program to spawn must be given by an absolute path"));
  }
  for (const auto& text : argv) {
    if (text.find('\0') != std::string::npos) return tl::unexpected(std::string("an argument holds a NUL byte"));
  }
  for (const auto& text : spec.env) {
    if (text.find('\0') != std::string::npos || text.find('=') == std::string::npos) {
      return tl::unexpected(fmt::format("environment entry '{}' is not KEY=VALUE", text.substr(0, 64)));
    }
  }
  if (spec.keep_fds.size() > kMaxKeptFds) {
    return tl::unexpected(fmt::format("{} descriptors to keep, at most {}", spec.keep_fds.size(), kMaxKeptFds));
  }
  for (int fd : spec.keep_fds) {
    if (fd < 0 || ::fcntl(fd, F_GETFD) < 0) return tl::unexpected(fmt::format("descriptor {} to keep is not open", fd));
  }
  for (int fd : {spec.stdout_fd, spec.stderr_fd}) {
    if (fd != -1 && (fd < 0 || ::fcntl(fd, F_GETFD) < 0)) return tl::unexpected(fmt::format("output descriptor {} is not open", fd));
  }
  return {};
}

}  // namespace

tl::expected<void, std::string> JailedProcess::send_signal(int signo) const {
  // By system call: glibc 2.36's <sys/pidfd.h> declares its wrappers without C linkage for C++.
  if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), signo, nullptr, 0) != 0) {
    return tl::unexpected(fmt::format("cannot signal process {}: {}", pid_, util::errno_text(errno)));
  }
  return {};
}

tl::expected<std::optional<ProcessEnd>, std::string> JailedProcess::try_wait() const {
  siginfo_t probe{};
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd_.get()), &probe, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return tl::unexpected(fmt::format("waitid for process {}: {}", pid_, util::errno_text(errno)));
  }
  if (probe.si_pid == 0) return std::optional<ProcessEnd>{};
  auto end = reap(pidfd_.get(), 0);
  if (!end) return tl::unexpected(end.error());
  return std::optional<ProcessEnd>{*end};
}

tl::expected<ProcessEnd, std::string> JailedProcess::wait() const { return reap(pidfd_.get(), 0); }

tl::expected<JailedProcess, std::string> spawn_jailed(const Cgroups& cgroups, const JailSpec& spec,
                                                      const std::vector<std::string>& argv) {
  if (auto c = check_spec(spec, argv); !c) return tl::unexpected(c.error());
  util::UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) return tl::unexpected("/dev/null: " + util::errno_text(errno));
  int go[2];
  int report[2];
  if (::pipe2(go, O_CLOEXEC) != 0) return tl::unexpected("pipe: " + util::errno_text(errno));
  util::UniqueFd go_read(go[0]), go_write(go[1]);
  if (::pipe2(report, O_CLOEXEC) != 0) return tl::unexpected("pipe: " + util::errno_text(errno));
  util::UniqueFd report_read(report[0]), report_write(report[1]);

  std::vector<std::string> strings = argv;
  std::vector<char*> argv_ptrs, env_ptrs;
  for (auto& s : strings) argv_ptrs.push_back(s.data());
  argv_ptrs.push_back(nullptr);
  std::vector<std::string> env = spec.env;
  for (auto& s : env) env_ptrs.push_back(s.data());
  env_ptrs.push_back(nullptr);
  ChildPlan plan;
  plan.path = strings[0].c_str();
  plan.argv = argv_ptrs.data();
  plan.envp = env_ptrs.data();
  plan.hostname = spec.name.c_str();
  plan.hostname_length = spec.name.size();
  plan.go_fd = go_read.get();
  plan.report_fd = report_write.get();
  plan.sources[0] = null.get();
  plan.sources[1] = spec.stdout_fd == -1 ? null.get() : spec.stdout_fd;
  plan.sources[2] = spec.stderr_fd == -1 ? null.get() : spec.stderr_fd;
  for (std::size_t i = 0; i < spec.keep_fds.size(); ++i) plan.sources[3 + i] = spec.keep_fds[i];
  plan.count = 3 + spec.keep_fds.size();

  if (auto c = cgroups.create(spec.name, spec.cgroup); !c) return tl::unexpected(c.error());
  std::vector<char> stack(kChildStackBytes);
  int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD | SIGCHLD;
  if (spec.new_net) flags |= CLONE_NEWNET;
  int pidfd_number = -1;
  // No CLONE_VM: the child gets a copy of this address space, as after fork, and its own copy of
  // the stack buffer (the stack grows down, so it starts at the buffer's end).
  const pid_t pid = ::clone(child_main, stack.data() + stack.size(), flags, &plan, &pidfd_number);
  if (pid < 0) {
    const int err = errno;
    (void)cgroups.remove(spec.name);
    return tl::unexpected("clone: " + util::errno_text(err));
  }
  util::UniqueFd pidfd(pidfd_number);
  go_read.reset();
  report_write.reset();
  const auto abandon = [&](const std::string& why) -> tl::expected<JailedProcess, std::string> {
    go_write.reset();  // the child reads end-of-file and exits before exec
    (void)reap(pidfd.get(), 0);
    (void)cgroups.remove(spec.name);
    return tl::unexpected(why);
  };
  if (auto joined = cgroups.add_process(spec.name, pid); !joined) return abandon(joined.error());
  const char release = 1;
  if (::write(go_write.get(), &release, 1) != 1) return abandon("cannot release the child: " + util::errno_text(errno));
  go_write.reset();
  int child_errno = 0;
  ssize_t got = 0;
  do got = ::read(report_read.get(), &child_errno, sizeof child_errno); while (got < 0 && errno == EINTR);
  if (got != 0) {
    (void)reap(pidfd.get(), 0);
    (void)cgroups.remove(spec.name);
    return tl::unexpected(fmt::format("cannot start {} in its jail: {}", argv[0],
                                      got == sizeof child_errno ? util::errno_text(child_errno) : std::string("no report")));
  }
  return JailedProcess(pid, std::move(pidfd));
}

}  // namespace tilehv::jail
