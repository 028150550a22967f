// Integration tests: the SDK's network stack passes its self-test (reference and hostile frames fed
// through a recording link, no device needed) on tilehv.
#include <regex>

#include <gtest/gtest.h>

#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"

namespace tilehv {
namespace {

TEST(NetSelftest, StackAnswersExactlyAndDropsHostileFrames) {
  TILEHV_REQUIRE_KVM();
  const auto r = testing::run_process({TILEHV_BINARY, "run", "--kernel", testing::guest_kernel("net-selftest"),
                                       "--timeout", "60"},
                                      testing::with_limit(std::chrono::seconds(90)));
  ASSERT_EQ(r.status, 0) << r.describe();
  const auto lines = r.out_lines();
  ASSERT_FALSE(lines.empty()) << r.describe();
  EXPECT_TRUE(std::regex_match(lines.back(), std::regex(R"(net-selftest: \d+ checks, 0 failed)"))) << r.describe();
}

}  // namespace
}  // namespace tilehv
