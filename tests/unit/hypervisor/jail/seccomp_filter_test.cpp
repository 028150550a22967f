// Seccomp filter: a process under the VMM filter keeps what the VMM needs and dies of SIGSYS on
// anything else. Each case runs in a forked child, since a filter cannot be removed.
#include "jail/seccomp_filter.hpp"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <functional>

#include <gtest/gtest.h>

namespace tilehv::jail {
namespace {

// Leaves by the raw system call: the sanitizers' exit hooks would make calls the filter refuses.
[[noreturn]] void leave(int status) {
  ::syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

// Runs `body` in a child under the filter; returns the child's wait status.
int under_filter(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (auto installed = install_vmm_filter(); !installed) leave(100);
    leave(body());
  }
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return status;
}

// The sanitizers' runtime makes calls of its own that no VMM makes (sigaltstack when it sets up a
// thread or handles a fault); the jailed VMM is never a sanitizer build.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

bool killed_by_sigsys(int status) { return WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS; }

TEST(SeccompFilterTest, CallsTheVmmMakesStillWork) {
  if (kSanitized) GTEST_SKIP() << "the sanitizer runtime's own calls (sigaltstack) are outside the VMM's allow-list";
  const int status = under_filter([] {
    if (::syscall(SYS_getpid) <= 0) return 1;
    if (::prctl(PR_SET_NAME, "vcpu0", 0, 0, 0) != 0) return 2;
    // A KVM request on no descriptor: the filter lets it through and the kernel answers EBADF.
    if (::ioctl(-1, KVM_RUN, 0) != -1 || errno != EBADF) return 3;
    void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED || ::munmap(page, 4096) != 0) return 4;
    // clone3 is refused softly, so glibc falls back to clone, whose flags the filter can check.
    if (::syscall(SYS_clone3, nullptr, 0) != -1 || errno != ENOSYS) return 5;
    return 0;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SeccompFilterTest, ThreadsCanStartUnderTheFilter) {
  if (kSanitized) GTEST_SKIP() << "the sanitizer runtime sets up each thread with calls (sigaltstack) no VMM makes";
  const int status = under_filter([] {
    pthread_t thread;
    if (::pthread_create(&thread, nullptr, [](void*) -> void* { return nullptr; }, nullptr) != 0) return 1;
    return ::pthread_join(thread, nullptr) == 0 ? 0 : 2;
  });
  ASSERT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(SeccompFilterTest, SocketCreationKillsTheProcess) {
  EXPECT_TRUE(killed_by_sigsys(under_filter([] { return ::socket(AF_INET, SOCK_STREAM, 0) >= 0 ? 0 : 1; })));
}

TEST(SeccompFilterTest, OpeningAFileKillsTheProcess) {
  EXPECT_TRUE(killed_by_sigsys(under_filter([] { return ::syscall(SYS_openat, AT_FDCWD, "/etc/passwd", 0) >= 0 ? 0 : 1; })));
}

TEST(SeccompFilterTest, AnIoctlOutsideTheListKillsTheProcess) {
  EXPECT_TRUE(killed_by_sigsys(under_filter([] {
    winsize size{};
    return ::ioctl(0, TIOCGWINSZ, &size) == 0 ? 0 : 1;
  })));
  EXPECT_TRUE(killed_by_sigsys(under_filter([] { return ::ioctl(-1, KVM_CREATE_VM, 0) == 0 ? 0 : 1; })));
}

TEST(SeccompFilterTest, ANewProcessOrExecutableMemoryKillsTheProcess) {
  EXPECT_TRUE(killed_by_sigsys(under_filter([] {
    return ::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, 0) >= 0 ? 0 : 1;
  })));
  EXPECT_TRUE(killed_by_sigsys(under_filter([] {
    void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return page == MAP_FAILED ? 1 : 0;
  })));
  EXPECT_TRUE(killed_by_sigsys(under_filter([] { return ::syscall(SYS_tgkill, 1, 1, 0) == 0 ? 0 : 1; })));
}

TEST(SeccompFilterTest, EveryEntryOfTheAllowListHasAReason) {
  const auto list = vmm_allow_list();
  EXPECT_GT(list.size(), 20u);
  for (const auto& entry : list) EXPECT_FALSE(entry.reason.empty()) << entry.name;
}

}  // namespace
}  // namespace tilehv::jail
