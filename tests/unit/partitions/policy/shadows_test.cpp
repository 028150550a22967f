// The shadows section: every field of a shadow read as written, defaults where it is silent, and a
// candidate whose bytes changed after signing refused by its signature even when its sha256 is
// updated to match.
#include <gtest/gtest.h>

#include "policy/loader.hpp"
#include "unit/partitions/policy/policy_files.hpp"

namespace tilehv::policy {
namespace {

TEST(PolicyShadows, EveryFieldIsReadAsWritten) {
  auto loaded = load_policy_file(testing::data_dir() / "valid" / "shadows.json");
  ASSERT_TRUE(loaded) << format(loaded.error());
  ASSERT_EQ(loaded->shadows.size(), 1U);
  const Shadow& s = loaded->shadows[0];
  EXPECT_EQ(s.name, "controller-next");
  EXPECT_EQ(s.live, "controller");
  EXPECT_EQ(s.candidate.image, "../images/gamma.elf");
  EXPECT_EQ(s.candidate.image_resolved, (testing::images_dir() / "gamma.elf").lexically_normal().string());
  EXPECT_EQ(s.candidate.key, "pipeline");
  EXPECT_EQ(s.mirror, (std::set<MirroredInput>{MirroredInput::kSensors, MirroredInput::kNetwork, MirroredInput::kChannels}));
  ASSERT_EQ(s.compare.size(), 2U);
  const CompareSpec& net = s.compare[0];
  EXPECT_EQ(net.stream, OutputStream::kNetwork);
  EXPECT_EQ(net.rule, CompareRule::kFields);
  ASSERT_EQ(net.tolerances.size(), 2U);
  EXPECT_EQ(net.tolerances[0].field, "avg");
  EXPECT_EQ(net.tolerances[0].rel, 0.001);
  EXPECT_EQ(net.tolerances[1].field, "valve");
  EXPECT_EQ(net.tolerances[1].abs, 0.0);
  EXPECT_EQ(net.ignore_fields, std::vector<std::string>{"t"});
  EXPECT_EQ(net.reorder_window, 4U);
  EXPECT_EQ(net.latency_budget_us, 5000U);
  const CompareSpec& channels = s.compare[1];
  EXPECT_EQ(channels.rule, CompareRule::kExact);
  ASSERT_EQ(channels.ignore_bytes.size(), 1U);
  EXPECT_EQ(channels.ignore_bytes[0].length, 8U);
  EXPECT_EQ(s.promotion.min_inputs, 500U);
  EXPECT_EQ(s.promotion.min_duration_ms, 10'000U);
  EXPECT_EQ(s.promotion.max_cpu_ratio, 2.0);
  EXPECT_EQ(s.promotion.max_exits_ratio, 3.0);
  EXPECT_EQ(s.promotion.max_memory_bytes, 48ULL << 20);
  EXPECT_EQ(s.action, ShadowAction::kAutoRollback);
  EXPECT_EQ(s.cpu_weight_percent, 20U);
  EXPECT_EQ(s.watchdog_ms, 1500U);
  EXPECT_EQ(s.flood_factor, 5U);
  EXPECT_EQ(s.probation_ms, 30'000U);
  ASSERT_EQ(loaded->trust_keys.size(), 2U);
  EXPECT_EQ(loaded->trust_keys[1].name, "other");
  EXPECT_NE(loaded->find_shadow("controller-next"), nullptr);
  EXPECT_EQ(loaded->find_shadow("controller"), nullptr);
}

TEST(PolicyShadows, DefaultsWhereThePolicyIsSilent) {
  std::string text = testing::read_text(testing::data_dir() / "valid" / "base.json");
  const std::string shadows = R"(,"shadows": [{"name": "next", "live": "logger", "candidate": {"image": "../images/beta.elf",
      "sha256": "0bec78be4162a6b7a4267de17d1189d859190a83c18ffdb6ff9187f527f6dc4a"}}]})";
  text.replace(text.rfind('}'), 1, shadows);
  auto loaded = load_policy_text(text, "defaults.json", testing::data_dir() / "valid", Format::kJson);
  ASSERT_TRUE(loaded) << format(loaded.error());
  const Shadow& s = loaded->shadows.at(0);
  EXPECT_EQ(s.mirror.size(), 3U);
  EXPECT_TRUE(s.compare.empty());
  EXPECT_EQ(s.action, ShadowAction::kReport);
  EXPECT_EQ(s.promotion.min_inputs, 1000U);
  EXPECT_EQ(s.promotion.max_divergence_ratio, 0.0);
  EXPECT_FALSE(s.candidate.signature.has_value());
  EXPECT_EQ(s.cpu_weight_percent, 25U);
}

TEST(PolicyShadows, ACandidateChangedAfterSigningIsRefused) {
  testing::ScratchDir dir;
  std::string image = testing::read_text(testing::images_dir() / "gamma.elf");
  image.back() = static_cast<char>(image.back() ^ 1);
  std::filesystem::create_directories(dir.path() / "images");
  std::filesystem::create_directories(dir.path() / "valid");
  testing::write_text(dir.path() / "images" / "gamma.elf", image);
  for (const char* name : {"alpha.elf", "beta.elf"}) {
    std::filesystem::copy_file(testing::images_dir() / name, dir.path() / "images" / name);
  }
  std::filesystem::copy(testing::data_dir() / "keys", dir.path() / "keys");
  std::string text = testing::read_text(testing::data_dir() / "valid" / "shadows.json");
  const auto sha = sha256_file(dir.path() / "images" / "gamma.elf");
  ASSERT_TRUE(sha);
  const std::string old_sha = "12e0cb7ee3f60b3f5e4e31246e35e239e4319d90bc30b23a6a135f1c363e5294";
  // The aggregator runs the same image: every mention of its hash moves with it.
  for (auto at = text.find(old_sha); at != std::string::npos; at = text.find(old_sha)) text.replace(at, old_sha.size(), *sha);
  testing::write_text(dir.path() / "valid" / "shadows.json", text);
  auto loaded = load_policy_file(dir.path() / "valid" / "shadows.json");
  ASSERT_FALSE(loaded);
  ASSERT_EQ(loaded.error().size(), 1U) << format(loaded.error());
  EXPECT_EQ(loaded.error()[0].check, "signatures");
  EXPECT_EQ(loaded.error()[0].path, "shadows[0].candidate.signature");
}

}  // namespace
}  // namespace tilehv::policy
