// Slow integration tests: memtest over 1 GiB on 1, 2 and 4 vCPUs. Each takes minutes where guest
// instructions are emulated; run them with `TILEHV_TEST_SLOW=1 scripts/test.sh` or `ctest -L slow`.
#include <gtest/gtest.h>

#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"

namespace tilehv {
namespace {

class MemtestOneGiB : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(MemtestOneGiB, FillsAndVerifiesAllFreeRam) {
  TILEHV_REQUIRE_KVM();
  const auto r = testing::run_process({TILEHV_BINARY, "run", "--kernel", testing::guest_kernel("memtest"), "--vcpus",
                                       std::to_string(GetParam()), "--memory", "1G", "--timeout", "1500"},
                                      testing::with_limit(std::chrono::seconds(1600)));
  ASSERT_TRUE(r.exited && r.status == 0) << r.describe();
  EXPECT_NE(r.out.find(" MiB ok"), std::string::npos) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Vcpus, MemtestOneGiB, ::testing::Values(1U, 2U, 4U));

}  // namespace
}  // namespace tilehv
