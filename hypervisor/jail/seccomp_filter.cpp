// Seccomp filter: the VMM's allow-list as a table, compiled by libseccomp into a BPF program.
#include "jail/seccomp_filter.hpp"

#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>

#include <fmt/format.h>

// The filter names KVM's ioctl requests; it issues none (the KVM layer does).
#include "kvm/kvm_abi.hpp"
#include "util/errno_text.hpp"

namespace tilehv::jail {
namespace {

// One argument condition: (arg & mask) == value.
struct ArgMatch {
  unsigned index;
  std::uint64_t mask;
  std::uint64_t value;
};

struct Rule {
  int syscall;
  AllowedCall doc;
  std::vector<ArgMatch> args;  // all must hold; empty: any arguments
};

// The flags glibc's pthread_create passes to clone: a thread in this process, nothing more.
constexpr std::uint64_t kThreadFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                                       CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
// Flags that must be clear: new namespaces, a new process, tracing, another parent.
constexpr std::uint64_t kForbiddenCloneFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                               CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_PARENT |
                                               CLONE_VFORK | CLONE_PTRACE | CLONE_UNTRACED | CLONE_PIDFD;
constexpr std::uint64_t kWord = 0xffff'ffff;

std::vector<Rule> rules(pid_t self) {
  const auto any = [](int nr, std::string_view name, std::string_view reason) {
    return Rule{nr, {name, reason, {}}, {}};
  };
  const auto ioctl = [](unsigned long request, std::string_view name, std::string_view reason) {
    return Rule{SCMP_SYS(ioctl), {name, reason, "on any descriptor"}, {{1, kWord, request}}};
  };
  return {
      // Devices, the console and the main loop.
      any(SCMP_SYS(read), "read", "eventfds (queue kicks, device wake-ups), the signalfd, TAP frames, control requests"),
      any(SCMP_SYS(write), "write", "console output, eventfds (interrupts, stop), error lines on stderr"),
      any(SCMP_SYS(accept4), "accept4", "clients of the control socket, which listens since before the jail"),
      any(SCMP_SYS(sendto), "sendto", "answers on the control socket"),
      any(SCMP_SYS(recvmsg), "recvmsg",
          "control requests, and the new plane link a restarted daemon passes with `relink`; replies on the plane link"),
      any(SCMP_SYS(sendmsg), "sendmsg", "port descriptors handed back to a restarted daemon's plane on `relink`"),
      any(SCMP_SYS(fsync), "fsync", "the end report reaches the disk before the VMM exits"),
      any(SCMP_SYS(poll), "poll", "the main thread waits for the VM's end, a signal or the timeout"),
      any(SCMP_SYS(epoll_wait), "epoll_wait", "the device thread waits for queue kicks and backends"),
      any(SCMP_SYS(getrandom), "getrandom", "the virtio entropy device's bytes from the host CSPRNG"),
      any(SCMP_SYS(close), "close", "descriptors released when the VM is torn down"),
      // Threads and their synchronisation.
      Rule{SCMP_SYS(clone), {"clone", "vCPU and device threads (glibc falls back to clone when clone3 is refused)",
                             "thread flags only: no new process, namespace, tracer or parent"},
           {{0, kThreadFlags | kForbiddenCloneFlags, kThreadFlags}}},
      any(SCMP_SYS(set_robust_list), "set_robust_list", "glibc registers each new thread's robust futexes"),
      any(SCMP_SYS(rseq), "rseq", "glibc registers each new thread's restartable sequences"),
      any(SCMP_SYS(futex), "futex", "mutexes, condition variables and thread joins"),
      any(SCMP_SYS(exit), "exit", "a thread ends"),
      any(SCMP_SYS(exit_group), "exit_group", "the VMM ends"),
      Rule{SCMP_SYS(prctl), {"prctl", "threads name themselves (vcpuN, devices)", "PR_SET_NAME only"},
           {{0, kWord, PR_SET_NAME}}},
      // Signals: the vCPU kick and the termination signals.
      any(SCMP_SYS(getpid), "getpid", "pthread_kill addresses the kick to a thread of this process"),
      any(SCMP_SYS(gettid), "gettid", "pthread_kill and abort name the calling thread"),
      Rule{SCMP_SYS(tgkill), {"tgkill", "the vCPU kick (and abort) signal a thread of this process",
                              "thread group: this process only"},
           {{0, kWord, static_cast<std::uint64_t>(self)}}},
      any(SCMP_SYS(rt_sigaction), "rt_sigaction", "glibc installs its thread-control handler as the first thread starts"),
      any(SCMP_SYS(rt_sigprocmask), "rt_sigprocmask", "glibc blocks signals around thread start and exit"),
      any(SCMP_SYS(rt_sigreturn), "rt_sigreturn", "return from the kick's signal handler"),
      any(SCMP_SYS(restart_syscall), "restart_syscall", "a wait with a timeout resumed after a kick"),
      any(SCMP_SYS(clock_gettime), "clock_gettime", "timeouts, where the vDSO falls back to the system call"),
      // Memory: the allocator and thread stacks; never executable.
      Rule{SCMP_SYS(mmap), {"mmap", "malloc arenas and thread stacks", "never PROT_EXEC"}, {{2, PROT_EXEC, 0}}},
      Rule{SCMP_SYS(mprotect), {"mprotect", "malloc arenas grow, thread stacks get their guard", "never PROT_EXEC"},
           {{2, PROT_EXEC, 0}}},
      any(SCMP_SYS(munmap), "munmap", "freed allocations, thread stacks, guest memory at teardown"),
      any(SCMP_SYS(brk), "brk", "the main malloc arena grows"),
      Rule{SCMP_SYS(madvise), {"madvise", "glibc returns an ended thread's stack and freed arena pages",
                               "MADV_DONTNEED only"},
           {{2, kWord, MADV_DONTNEED}}},
      // KVM: what vCPUs and devices do while the guest runs, and the teardown.
      ioctl(KVM_RUN, "ioctl KVM_RUN", "vCPU threads run the guest"),
      ioctl(KVM_GET_REGS, "ioctl KVM_GET_REGS", "a failed vCPU's registers for its report"),
      ioctl(KVM_GET_SREGS, "ioctl KVM_GET_SREGS", "a failed vCPU's segments and paging for its report"),
      ioctl(KVM_TRANSLATE, "ioctl KVM_TRANSLATE", "a failed vCPU's instruction address for its report"),
      ioctl(kvm::abi::kSetGsiRouting, "ioctl KVM_SET_GSI_ROUTING", "the guest reprograms its IOAPIC"),
      ioctl(KVM_SIGNAL_MSI, "ioctl KVM_SIGNAL_MSI", "interrupts of pins without an irqfd"),
      ioctl(KVM_IRQFD, "ioctl KVM_IRQFD", "irqfds removed at teardown"),
      ioctl(KVM_IOEVENTFD, "ioctl KVM_IOEVENTFD", "queue-notify eventfds removed at teardown"),
      ioctl(KVM_SET_USER_MEMORY_REGION, "ioctl KVM_SET_USER_MEMORY_REGION", "memory slots removed at teardown"),
  };
}

struct ContextDeleter {
  void operator()(void* ctx) const noexcept { seccomp_release(static_cast<scmp_filter_ctx>(ctx)); }
};

}  // namespace

std::vector<AllowedCall> vmm_allow_list() {
  std::vector<AllowedCall> list;
  for (const Rule& rule : rules(::getpid())) list.push_back(rule.doc);
  list.push_back({"clone3", "refused with ENOSYS, so that glibc uses clone, whose flags a filter can see", {}});
  return list;
}

tl::expected<void, std::string> install_vmm_filter() {
  std::unique_ptr<void, ContextDeleter> ctx(seccomp_init(SCMP_ACT_KILL_PROCESS));
  if (!ctx) return tl::unexpected(std::string("seccomp_init failed"));
  // Threads made before the filter get it too, so no thread runs unfiltered.
  if (const int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc != 0) {
    return tl::unexpected("seccomp: cannot synchronise threads: " + util::errno_text(-rc));
  }
  for (const Rule& rule : rules(::getpid())) {
    std::vector<scmp_arg_cmp> args;
    for (const ArgMatch& m : rule.args) args.push_back(scmp_arg_cmp{m.index, SCMP_CMP_MASKED_EQ, m.mask, m.value});
    const int rc = seccomp_rule_add_array(ctx.get(), SCMP_ACT_ALLOW, rule.syscall, static_cast<unsigned>(args.size()),
                                          args.data());
    if (rc != 0) return tl::unexpected(fmt::format("seccomp: cannot allow {}: {}", rule.doc.name, util::errno_text(-rc)));
  }
  // clone3 passes its flags in memory, out of a filter's sight: refused so glibc falls back to clone.
  if (const int rc = seccomp_rule_add_array(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, nullptr); rc != 0) {
    return tl::unexpected("seccomp: cannot refuse clone3: " + util::errno_text(-rc));
  }
  if (const int rc = seccomp_load(ctx.get()); rc != 0) {
    return tl::unexpected("seccomp: cannot load the filter: " + util::errno_text(-rc));
  }
  return {};
}

}  // namespace tilehv::jail
