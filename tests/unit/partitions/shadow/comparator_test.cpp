// The comparator: twins matched in order or within a reorder window, rules applied (exact with
// ignored bytes, fields with tolerances and ignored fields), divergences kept with the inputs before
// them, late twins beyond the latency budget, one side far ahead, and bounded memory.
#include "shadow/comparator.hpp"

#include <string>

#include <gtest/gtest.h>

namespace tilehv::shadow {
namespace {

using policy::CompareRule;
using policy::OutputStream;

std::span<const std::uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

policy::Shadow shadow_with(std::vector<policy::CompareSpec> compare = {}) {
  policy::Shadow s;
  s.name = "next";
  s.live = "controller";
  s.compare = std::move(compare);
  return s;
}

policy::CompareSpec fields_rule(OutputStream stream) {
  policy::CompareSpec spec;
  spec.stream = stream;
  spec.rule = CompareRule::kFields;
  return spec;
}

constexpr std::uint64_t kMs = 1'000'000;

TEST(Comparator, EqualStreamsMatchRecordForRecord) {
  Comparator c(shadow_with(), 0);
  for (int i = 0; i < 100; ++i) {
    const std::string line = "cmd seq=" + std::to_string(i);
    c.input("sensor.wall", bytes("t=" + std::to_string(i)), i * kMs);
    c.output(OutputStream::kSensors, Side::kLive, bytes(line), i * kMs + 10'000);
    c.output(OutputStream::kSensors, Side::kShadow, bytes(line), i * kMs + 30'000);
  }
  const StreamCounts* counts = c.counts(OutputStream::kSensors);
  ASSERT_NE(counts, nullptr);
  EXPECT_EQ(counts->matched, 100U);
  EXPECT_EQ(counts->diverged, 0U);
  EXPECT_EQ(c.divergence_ratio(), 0.0);
  EXPECT_EQ(c.inputs(), 100U);
  // The shadow came 20 us after its twin every time.
  EXPECT_GE(counts->latency.percentile_us(0.5), 20.0 / 1.2);
  EXPECT_LE(counts->latency.percentile_us(0.5), 20.0 * 1.2);
}

TEST(Comparator, ADivergenceNamesTheFieldAndTheInputsBeforeIt) {
  auto spec = fields_rule(OutputStream::kSensors);
  spec.ignore_fields = {"t"};
  spec.tolerances = {{"avg", std::nullopt, 0.01}};
  Comparator c(shadow_with({spec}), 0);
  for (int i = 1; i <= 30; ++i) {
    c.input("sensor.wall", bytes("sample " + std::to_string(i)), i * kMs);
    const std::string live = "cmd seq=" + std::to_string(i) + " t=" + std::to_string(i) + " avg=1000 valve=" + std::to_string(i);
    // The shadow's timestamps differ (ignored), its average by 0.5% (tolerated), its valve at input 20.
    const std::string shadow = "cmd seq=" + std::to_string(i) + " t=" + std::to_string(i * 7) + " avg=1005 valve=" +
                               std::to_string(i == 20 ? 99 : i);
    c.output(OutputStream::kSensors, Side::kLive, bytes(live), i * kMs + 1);
    c.output(OutputStream::kSensors, Side::kShadow, bytes(shadow), i * kMs + 2);
  }
  EXPECT_EQ(c.counts(OutputStream::kSensors)->matched, 29U);
  EXPECT_EQ(c.counts(OutputStream::kSensors)->diverged, 1U);
  ASSERT_EQ(c.divergences().size(), 1U);
  const Divergence& d = c.divergences()[0];
  EXPECT_EQ(d.reason, "field valve: live 20, shadow 99");
  ASSERT_TRUE(d.live && d.shadow);
  EXPECT_EQ(d.live->seq, 20U);
  ASSERT_FALSE(d.inputs_before.empty());
  EXPECT_EQ(d.inputs_before.back().seq, 20U) << "the last input before the divergent record is the 20th";
  EXPECT_EQ(std::string(d.inputs_before.back().bytes.begin(), d.inputs_before.back().bytes.end()), "sample 20");
  EXPECT_LE(d.inputs_before.size(), Comparator::kKeptInputs);
}

TEST(Comparator, ToleranceBoundsAreHonoured) {
  auto spec = fields_rule(OutputStream::kSensors);
  spec.tolerances = {{"x", 2.0, std::nullopt}};
  Comparator c(shadow_with({spec}), 0);
  c.output(OutputStream::kSensors, Side::kLive, bytes("x=10"), 1);
  c.output(OutputStream::kSensors, Side::kShadow, bytes("x=12"), 2);
  c.output(OutputStream::kSensors, Side::kLive, bytes("x=10"), 3);
  c.output(OutputStream::kSensors, Side::kShadow, bytes("x=12.5"), 4);
  c.output(OutputStream::kSensors, Side::kLive, bytes("x=10 y=1"), 5);
  c.output(OutputStream::kSensors, Side::kShadow, bytes("x=10"), 6);
  EXPECT_EQ(c.counts(OutputStream::kSensors)->matched, 1U);
  ASSERT_EQ(c.divergences().size(), 2U);
  EXPECT_EQ(c.divergences()[0].reason, "field x: live 10, shadow 12.5, beyond tolerance abs 2");
  EXPECT_EQ(c.divergences()[1].reason, "field y: live 1, shadow has none");
}

TEST(Comparator, ExactRuleIgnoresTheGivenBytesOnly) {
  policy::CompareSpec spec;
  spec.stream = OutputStream::kChannels;
  spec.ignore_bytes = {{2, 2}};
  Comparator c(shadow_with({spec}), 0);
  c.output(OutputStream::kChannels, Side::kLive, bytes("abcdef"), 1);
  c.output(OutputStream::kChannels, Side::kShadow, bytes("abXYef"), 2);
  c.output(OutputStream::kChannels, Side::kLive, bytes("abcdef"), 3);
  c.output(OutputStream::kChannels, Side::kShadow, bytes("abcdeZ"), 4);
  c.output(OutputStream::kChannels, Side::kLive, bytes("abc"), 5);
  c.output(OutputStream::kChannels, Side::kShadow, bytes("abcd"), 6);
  EXPECT_EQ(c.counts(OutputStream::kChannels)->matched, 1U);
  ASSERT_EQ(c.divergences().size(), 2U);
  EXPECT_EQ(c.divergences()[0].reason, "byte 5: live 0x66, shadow 0x5a");
  EXPECT_EQ(c.divergences()[1].reason, "length: live 3 bytes, shadow 4 bytes");
}

TEST(Comparator, NetworkFramesMatchWithinTheReorderWindow) {
  policy::CompareSpec spec;
  spec.stream = OutputStream::kNetwork;
  spec.reorder_window = 2;
  Comparator c(shadow_with({spec}), 0);
  for (const char* f : {"f1", "f2", "f3"}) c.output(OutputStream::kNetwork, Side::kLive, bytes(f), 1);
  for (const char* f : {"f3", "f1", "f2"}) c.output(OutputStream::kNetwork, Side::kShadow, bytes(f), 2);
  EXPECT_EQ(c.counts(OutputStream::kNetwork)->matched, 3U);
  EXPECT_EQ(c.counts(OutputStream::kNetwork)->diverged, 0U);
  // Without a window the same order is three divergences... almost: f1/f3, f2/f1, f3/f2.
  Comparator strict(shadow_with(), 0);
  for (const char* f : {"f1", "f2", "f3"}) strict.output(OutputStream::kNetwork, Side::kLive, bytes(f), 1);
  for (const char* f : {"f3", "f1", "f2"}) strict.output(OutputStream::kNetwork, Side::kShadow, bytes(f), 2);
  EXPECT_EQ(strict.counts(OutputStream::kNetwork)->diverged, 3U);
}

TEST(Comparator, ATwinBeyondTheLatencyBudgetIsLate) {
  auto spec = fields_rule(OutputStream::kSensors);
  spec.latency_budget_us = 5000;
  Comparator c(shadow_with({spec}), 0);
  c.output(OutputStream::kSensors, Side::kLive, bytes("a=1"), 0);
  c.output(OutputStream::kSensors, Side::kShadow, bytes("a=1"), 4 * kMs);
  c.output(OutputStream::kSensors, Side::kLive, bytes("a=2"), 10 * kMs);
  c.output(OutputStream::kSensors, Side::kShadow, bytes("a=2"), 17 * kMs);
  const StreamCounts* counts = c.counts(OutputStream::kSensors);
  EXPECT_EQ(counts->matched, 1U);
  EXPECT_EQ(counts->late, 1U);
  ASSERT_EQ(c.divergences().size(), 1U);
  EXPECT_EQ(c.divergences()[0].reason, "late by 7.000 ms (budget 5.000 ms)");
}

TEST(Comparator, ASideFarAheadLeavesUnmatchedRecordsAndBoundedMemory) {
  Comparator c(shadow_with(), 0);
  const std::size_t flood = Comparator::kBacklog + 100;
  for (std::size_t i = 0; i < flood; ++i) c.output(OutputStream::kNetwork, Side::kShadow, bytes("flood"), i);
  const StreamCounts* counts = c.counts(OutputStream::kNetwork);
  EXPECT_EQ(counts->shadow_records, flood);
  EXPECT_EQ(counts->unmatched, 100U);
  EXPECT_EQ(c.summary()["streams"]["network"]["waiting"]["shadow"], Comparator::kBacklog);
  EXPECT_EQ(c.divergences().size(), Comparator::kKeptDivergences);
  EXPECT_FALSE(c.divergences()[0].live.has_value());
  EXPECT_EQ(c.divergences()[0].reason, "the live partition has no record for it");
}

TEST(Comparator, SummaryCarriesTheTimelineAndBinaryRecordsAsHex) {
  Comparator c(shadow_with(), 1000);
  c.output(OutputStream::kNetwork, Side::kLive, bytes(std::string("\x01\x02", 2)), 1000 + 500 * kMs);
  c.output(OutputStream::kNetwork, Side::kShadow, bytes(std::string("\x01\x03", 2)), 1000 + 2500 * kMs);
  const auto s = c.summary();
  EXPECT_EQ(s["divergent"], 1U);
  EXPECT_EQ(s["divergences"][0]["live"]["bytes"]["hex"], "0102");
  ASSERT_EQ(s["timeline"].size(), 1U);
  EXPECT_EQ(s["timeline"][0]["second"], 2U);
  EXPECT_EQ(s["timeline"][0]["diverged"], 1U);
}

}  // namespace
}  // namespace tilehv::shadow
