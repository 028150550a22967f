// Tests for Kvm::open: the capability checks at start and their actionable messages.
#include "kvm/kvm.hpp"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "kvm/vcpu.hpp"
#include "kvm/vm.hpp"
#include "util/mapping.hpp"
#include "support/kvm_available.hpp"

namespace tilehv::kvm {
namespace {

TEST(KvmOpen, MissingDeviceSaysHowToFixIt) {
  auto kvm = Kvm::open("/nonexistent/kvm");
  ASSERT_FALSE(kvm);
  EXPECT_EQ(kvm.error().code, KvmErrc::kNoDevice);
  EXPECT_EQ(kvm.error().message,
            "/nonexistent/kvm does not exist: load the kvm module (kvm_intel or kvm_amd) or enable "
            "virtualization in the firmware");
}

TEST(KvmOpen, OtherDeviceIsNotKvm) {
  auto kvm = Kvm::open("/dev/null");
  ASSERT_FALSE(kvm);
  EXPECT_EQ(kvm.error().code, KvmErrc::kNoDevice);
  EXPECT_NE(kvm.error().message.find("/dev/null is not a KVM device"), std::string::npos) << kvm.error().message;
}

// A user outside the kvm group gets the fix in the message. Run as an unprivileged uid in a child.
TEST(KvmOpen, PermissionDeniedSaysWhichGroup) {
  TILEHV_REQUIRE_KVM();
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to an unprivileged uid";
  if (::access("/dev/kvm", F_OK) != 0) GTEST_SKIP() << "no /dev/kvm";
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    auto kvm = Kvm::open("/dev/kvm");
    const std::string message = kvm ? std::string("opened") : kvm.error().message;
    (void)!::write(pipe_fds[1], message.data(), message.size());
    ::_exit(kvm ? 1 : (kvm.error().code == KvmErrc::kNoPermission ? 0 : 3));
  }
  ::close(pipe_fds[1]);
  char buf[512] = {};
  const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf - 1);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::string message(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  if (message == "opened") GTEST_SKIP() << "/dev/kvm is open to every user on this host";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << message;
  EXPECT_EQ(message, "cannot open /dev/kvm: permission denied; add this user to the kvm group");
}

TEST(KvmOpen, ReportsSupportedCpuidAndLimits) {
  TILEHV_REQUIRE_KVM();
  auto kvm = Kvm::open();
  ASSERT_TRUE(kvm) << kvm.error().message;
  EXPECT_GT(kvm->supported_cpuid().size(), 10U);
  EXPECT_GE(kvm->max_vcpus(), 1U);
  EXPECT_GT(kvm->vcpu_mmap_size(), 4096U);
  auto vm = kvm->create_vm();
  ASSERT_TRUE(vm) << vm.error().message;
  EXPECT_TRUE(vm->enable_split_irqchip(24));
  auto vcpu = vm->create_vcpu(0);
  ASSERT_TRUE(vcpu) << vcpu.error().message;
  // A fixed interrupt to APIC 0 reaches the (software-disabled, not yet running) LAPIC or is refused;
  // either way the call returns, and a destination that does not exist is never "delivered".
  (void)vm->signal_msi(0xfee00000, 0x40);
  EXPECT_FALSE(vm->signal_msi(0xfee00000 | (200U << 12), 0x40)) << "no vCPU has APIC id 200";
}

// A slot is gone when its object is: KVM refuses to resize a live slot, so re-adding slot 0 with
// another size succeeds only if the first was removed.
TEST(MemorySlotTest, RemovedWhenDestroyed) {
  TILEHV_REQUIRE_KVM();
  auto kvm = Kvm::open();
  ASSERT_TRUE(kvm) << kvm.error().message;
  auto vm = kvm->create_vm();
  ASSERT_TRUE(vm);
  auto memory = util::Mapping::map(4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_TRUE(memory);
  {
    auto slot = vm->add_memory_slot(0, 0, 2 << 20, memory->data());
    ASSERT_TRUE(slot) << slot.error().message;
    EXPECT_FALSE(vm->add_memory_slot(0, 0, 4 << 20, memory->data())) << "a live slot cannot be resized";
  }
  auto again = vm->add_memory_slot(0, 0, 4 << 20, memory->data());
  EXPECT_TRUE(again) << (again ? "" : again.error().message);
}

}  // namespace
}  // namespace tilehv::kvm
