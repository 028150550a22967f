// Tests for the restart rules: which ends a policy restarts after, and the backoff before it.
#include "daemon/restart_rules.hpp"

#include <gtest/gtest.h>

namespace tilehv::daemon {
namespace {

policy::Restart with(policy::RestartPolicy p) {
  policy::Restart r;
  r.policy = p;
  r.backoff_initial_ms = 100;
  r.backoff_max_ms = 1000;
  return r;
}

TEST(RestartRules, OnlyAGuestExitWithZeroOrAPowerOffIsClean) {
  EXPECT_TRUE(clean_end({{"kind", "guest-exit"}, {"guest_value", 0}}));
  EXPECT_TRUE(clean_end({{"kind", "guest-power-off"}}));
  EXPECT_FALSE(clean_end({{"kind", "guest-exit"}, {"guest_value", 3}}));
  EXPECT_FALSE(clean_end({{"kind", "guest-exit"}}));
  EXPECT_FALSE(clean_end({{"kind", "vmm-crash"}, {"signal", 9}}));
  EXPECT_FALSE(clean_end({{"kind", "triple-fault"}}));
  EXPECT_FALSE(clean_end(nlohmann::json()));
}

TEST(RestartRules, EachPolicyRestartsAfterItsEnds) {
  const nlohmann::json clean{{"kind", "guest-exit"}, {"guest_value", 0}};
  const nlohmann::json crash{{"kind", "internal-error"}};
  EXPECT_FALSE(restart_wanted(with(policy::RestartPolicy::kNever), crash));
  EXPECT_TRUE(restart_wanted(with(policy::RestartPolicy::kOnFailure), crash));
  EXPECT_FALSE(restart_wanted(with(policy::RestartPolicy::kOnFailure), clean));
  EXPECT_TRUE(restart_wanted(with(policy::RestartPolicy::kAlways), clean));
}

TEST(RestartRules, BackoffDoublesUpToItsMaximum) {
  const auto r = with(policy::RestartPolicy::kAlways);
  EXPECT_EQ(backoff(r, 0).count(), 100);
  EXPECT_EQ(backoff(r, 1).count(), 200);
  EXPECT_EQ(backoff(r, 3).count(), 800);
  EXPECT_EQ(backoff(r, 4).count(), 1000);
  EXPECT_EQ(backoff(r, 4000000000U).count(), 1000) << "no overflow after many failures";
}

}  // namespace
}  // namespace tilehv::daemon
