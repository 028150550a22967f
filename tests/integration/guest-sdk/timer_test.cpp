// Integration tests for the SDK's LAPIC timer and TSC time: periodic and one-shot timers on every
// vCPU, measured against the TSC, on tilehv and on QEMU microvm.
#include <unistd.h>

#include <gtest/gtest.h>

#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"

namespace tilehv {
namespace {

void expect_all_cpus_ok(const testing::ProcessResult& r, int vcpus) {
  int ok_lines = 0;
  for (const auto& line : r.out_lines()) {
    if (line.starts_with("timer: cpu ") && line.ends_with(" ok")) ++ok_lines;
  }
  EXPECT_EQ(ok_lines, vcpus) << r.describe();
  EXPECT_NE(r.out.find("timer: " + std::to_string(vcpus) + " cpus ok"), std::string::npos) << r.describe();
}

TEST(SdkTimer, PeriodicAndOneShotOnEveryVcpuUnderTilehv) {
  TILEHV_REQUIRE_KVM();
  for (int vcpus : {1, 4}) {
    const auto r = testing::run_process({TILEHV_BINARY, "run", "--kernel", testing::guest_kernel("timer"), "--vcpus",
                                         std::to_string(vcpus), "--timeout", "30"});
    ASSERT_TRUE(r.exited) << r.describe();
    EXPECT_EQ(r.status, 0) << r.describe();
    expect_all_cpus_ok(r, vcpus);
  }
}

// On QEMU the SDK calibrates the TSC against the PIT and the LAPIC timer against the TSC.
TEST(SdkTimer, PeriodicAndOneShotUnderQemu) {
  TILEHV_REQUIRE_KVM();
  if (::access("/usr/bin/qemu-system-x86_64", X_OK) != 0) GTEST_SKIP() << "QEMU is not installed";
  const auto r = testing::run_process(
      {"/usr/bin/qemu-system-x86_64", "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=off", "-enable-kvm", "-cpu",
       "host,-arch-capabilities", "-m", "64M", "-smp", "2", "-nodefaults", "-no-user-config", "-nographic", "-serial",
       "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", testing::guest_kernel("timer")},
      testing::with_limit(std::chrono::seconds(60)));
  EXPECT_EQ(r.status, 1) << r.describe();  // QEMU: (0 << 1) | 1
  expect_all_cpus_ok(r, 2);
}

}  // namespace
}  // namespace tilehv
