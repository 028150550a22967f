// The verdict: a fault or disallowed divergence fails a shadow at once; it passes only with enough
// inputs, time and compared records within its ceilings; until then it runs on, saying what it waits for.
#include "shadow/verdict.hpp"

#include <gtest/gtest.h>

namespace tilehv::shadow {
namespace {

std::span<const std::uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

policy::Shadow shadow() {
  policy::Shadow s;
  s.promotion.min_inputs = 10;
  s.promotion.min_duration_ms = 1000;
  return s;
}

void feed(Comparator& c, int n, int diverging_at = -1) {
  for (int i = 0; i < n; ++i) {
    c.input("sensor.wall", bytes("x"), 0);
    c.output(policy::OutputStream::kNetwork, Side::kLive, bytes("r" + std::to_string(i)), 0);
    c.output(policy::OutputStream::kNetwork, Side::kShadow, bytes(i == diverging_at ? "other" : "r" + std::to_string(i)), 0);
  }
}

TEST(Verdict, RunsOnUntilItHasSeenEnough) {
  Comparator c(shadow(), 0);
  feed(c, 5);
  const Verdict v = judge(shadow().promotion, c, Evidence{500, {}, {}, {}});
  EXPECT_EQ(v.state, Verdict::State::kRunning);
  EXPECT_EQ(v.reasons, (std::vector<std::string>{"inputs: 5 of 10", "time: 500 ms of 1000 ms"}));
}

TEST(Verdict, PassesWithEnoughAndNothingWrong) {
  Comparator c(shadow(), 0);
  feed(c, 10);
  const Verdict v = judge(shadow().promotion, c, Evidence{1000, {}, {100, 10, 0}, {150, 12, 0}});
  EXPECT_EQ(v.state, Verdict::State::kPassed);
}

TEST(Verdict, AShadowBehindTheLivePartitionsRecordsCannotPassYet) {
  // 60 answered, then it stopped: inputs delivered are not inputs answered.
  Comparator c(shadow(), 0);
  feed(c, 60);
  for (int i = 60; i < 100; ++i) {
    c.input("sensor.wall", bytes("x"), 0);
    c.output(policy::OutputStream::kNetwork, Side::kLive, bytes("r" + std::to_string(i)), 0);
  }
  Verdict v = judge(shadow().promotion, c, Evidence{5000, {}, {}, {}});
  EXPECT_EQ(v.state, Verdict::State::kRunning);
  ASSERT_EQ(v.reasons.size(), 1U);
  EXPECT_EQ(v.reasons[0], "outputs: the shadow has not answered 40 of the live partition's records yet");
  // It catches up: now it passes.
  for (int i = 60; i < 100; ++i) c.output(policy::OutputStream::kNetwork, Side::kShadow, bytes("r" + std::to_string(i)), 0);
  v = judge(shadow().promotion, c, Evidence{5000, {}, {}, {}});
  EXPECT_EQ(v.state, Verdict::State::kPassed) << v.reasons.front();
}

TEST(Verdict, ASingleDivergenceFailsAtOnceWhenNoneIsAllowed) {
  Comparator c(shadow(), 0);
  feed(c, 3, 1);
  const Verdict v = judge(shadow().promotion, c, Evidence{10, {}, {}, {}});
  EXPECT_EQ(v.state, Verdict::State::kFailed);
  ASSERT_EQ(v.reasons.size(), 1U);
  EXPECT_EQ(v.reasons[0], "divergence: 1 of 3 records (0.3333), allowed 0");
}

TEST(Verdict, AnAllowedRatioIsJudgedOverEnoughInputs) {
  policy::Shadow s = shadow();
  s.promotion.max_divergence_ratio = 0.2;
  Comparator c(s, 0);
  feed(c, 4, 0);  // 1 of 4 diverged, but only 4 of 10 inputs: too early to judge the ratio
  EXPECT_EQ(judge(s.promotion, c, Evidence{2000, {}, {}, {}}).state, Verdict::State::kRunning);
  feed(c, 6);  // 1 of 10
  EXPECT_EQ(judge(s.promotion, c, Evidence{2000, {}, {}, {}}).state, Verdict::State::kPassed);
}

TEST(Verdict, FaultsAndCeilingsFail) {
  policy::Shadow s = shadow();
  s.promotion.max_cpu_ratio = 2.0;
  s.promotion.max_memory_bytes = 1000;
  Comparator c(s, 0);
  feed(c, 10);
  Verdict v = judge(s.promotion, c, Evidence{5000, {{"hang", "no output for 2000 ms after input 7", 0}}, {}, {}});
  EXPECT_EQ(v.state, Verdict::State::kFailed);
  EXPECT_EQ(v.reasons[0], "fault: hang: no output for 2000 ms after input 7");
  v = judge(s.promotion, c, Evidence{5000, {}, {100, 0, 0}, {300, 0, 0}});
  EXPECT_EQ(v.state, Verdict::State::kFailed);
  EXPECT_EQ(v.reasons[0], "cpu: 3 times the live partition's, ceiling 2");
  v = judge(s.promotion, c, Evidence{5000, {}, {}, {0, 0, 4096}});
  EXPECT_EQ(v.reasons[0], "memory: 4096 bytes, ceiling 1000");
  EXPECT_EQ(to_json(v)["state"], "failed");
}

}  // namespace
}  // namespace tilehv::shadow
