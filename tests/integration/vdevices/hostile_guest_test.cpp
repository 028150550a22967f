// Integration test: a hostile guest attacks its own virtqueue (virtq-attack). Every attack must be
// contained: refused with DEVICE_NEEDS_RESET and logged with what the guest did, or served without
// touching what the device must not; the VMM lives on, and the device serves again after a reset.
// Runs in the sanitizer build too.
#include <gtest/gtest.h>

#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"

namespace tilehv {
namespace {

TEST(HostileGuest, VirtqueueAttacksAreContained) {
  TILEHV_REQUIRE_KVM();
  const auto r = testing::run_process({TILEHV_BINARY, "run", "--kernel", testing::guest_kernel("virtq-attack"),
                                       "--rng-seed", "3", "--timeout", "60"},
                                      testing::with_limit(std::chrono::seconds(90)));
  ASSERT_TRUE(r.exited) << r.describe();
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_NE(r.out.find("virtq-attack: 12/12 attacks contained, device serves again"), std::string::npos)
      << r.describe();
  EXPECT_EQ(r.out.find("NOT CONTAINED"), std::string::npos) << r.describe();
  // Each refusal is logged once, naming the guest's action.
  const std::vector<std::string> reasons = {
      "descriptor 0 buffer [0xe0000000, +0x40) is not inside guest RAM",
      "descriptor 0 buffer [0xfffffffffffffff0, +0x40) is not inside guest RAM",
      "chain from head 0 is longer than its descriptor table of 16 descriptors (a loop?)",
      "available index moved from 0 to 32768: 32768 new buffers in a queue of 16",
      "available ring slot 0 names descriptor 200 of a queue of 16",
      "descriptor 0 continues to 300, beyond its table of 16",
      "descriptor 0 is indirect, but indirect descriptors were not negotiated",
      "device-readable descriptor 1 follows a device-writable one",
  };
  for (const auto& reason : reasons) {
    EXPECT_NE(r.err.find("tilehv: guest error: virtio-mmio 0 (entropy): queue 0: " + reason + "; device needs reset"),
              std::string::npos)
        << reason << "\n" << r.err;
  }
  EXPECT_EQ(r.err_lines().size(), 9U) << r.err;
}

// With stderr closed, logging a guest error fails: the VMM must carry on, not crash.
TEST(HostileGuest, ClosedStderrDoesNotTurnGuestErrorsIntoACrash) {
  TILEHV_REQUIRE_KVM();
  const std::string command = std::string("exec ") + TILEHV_BINARY + " run --kernel " +
                              testing::guest_kernel("virtq-attack") + " --rng-seed 3 --timeout 60 2>&-";
  const auto r = testing::run_process({"/bin/sh", "-c", command}, testing::with_limit(std::chrono::seconds(90)));
  ASSERT_TRUE(r.exited) << r.describe();
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_NE(r.out.find("12/12 attacks contained"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace tilehv
