// Integration tests for device interrupts: the virtio-irq kernel makes every entropy request wait
// for the device's interrupt (IOAPIC pin, irqfd on an MSI route, EOI exits), first on the boot CPU
// and then, with the pin moved while an interrupt may still be in service, on another CPU. A lost
// EOI or a stale route leaves the guest without interrupts, and it says so.
#include <gtest/gtest.h>

#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"

namespace tilehv {
namespace {

testing::ProcessResult run_virtio_irq(const std::string& vcpus) {
  return testing::run_process({TILEHV_BINARY, "run", "--kernel", testing::guest_kernel("virtio-irq"), "--rng",
                               "--vcpus", vcpus, "--timeout", "30"});
}

TEST(DeviceInterrupt, EveryRequestIsAnsweredByAnInterrupt) {
  TILEHV_REQUIRE_KVM();
  const auto r = run_virtio_irq("1");
  ASSERT_TRUE(r.exited && r.status == 0) << r.describe();
  EXPECT_NE(r.out.find("virtio-irq: cpu 0: 32 requests"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("virtio-irq: ok"), std::string::npos) << r.describe();
}

TEST(DeviceInterrupt, APinMovedToAnotherCpuKeepsInterrupting) {
  TILEHV_REQUIRE_KVM();
  const auto r = run_virtio_irq("2");
  ASSERT_TRUE(r.exited && r.status == 0) << r.describe();
  EXPECT_NE(r.out.find("virtio-irq: cpu 0: 32 requests"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("virtio-irq: cpu 1: 32 requests"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("virtio-irq: ok"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace tilehv
