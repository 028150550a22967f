// Each semantic check on its own: a valid policy passes it, and one change makes it report, with the
// field's path and position as evidence.
#include "policy/checks.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "policy/loader.hpp"
#include "unit/partitions/policy/policy_files.hpp"

namespace tilehv::policy {
namespace {

Policy valid_policy() {
  auto loaded = load_policy_file(testing::data_dir() / "valid/base.json");
  if (!loaded) throw std::runtime_error(format(loaded.error()));
  return std::move(*loaded);
}

std::vector<Diagnostic> run(std::string_view check, const Policy& policy) {
  const Check* found = find_check(check);
  if (found == nullptr) throw std::runtime_error("no such check");
  std::vector<Diagnostic> findings;
  found->run(policy, findings);
  return findings;
}

TEST(PolicyChecks, TheTableNamesEachCheckOnceAndAValidPolicyPassesThemAll) {
  const Policy policy = valid_policy();
  std::set<std::string_view> names;
  for (const Check& check : semantic_checks()) {
    EXPECT_TRUE(names.insert(check.name).second) << check.name;
    EXPECT_FALSE(check.what.empty());
    EXPECT_TRUE(run(check.name, policy).empty()) << check.name << "\n" << format(run(check.name, policy));
  }
  for (const char* name : {"api-version", "unique-names", "resources-fit-tile", "exclusive-cpus", "sensor-ownership",
                           "sensor-exists", "rate-bounds", "network", "channels", "images", "restart", "unjailed"}) {
    EXPECT_NE(find_check(name), nullptr) << name;
  }
  EXPECT_EQ(find_check("no-such-check"), nullptr);
}

TEST(PolicyChecks, ApiVersion) {
  Policy policy = valid_policy();
  policy.api_version = "tilehv.io/v0";
  const auto findings = run("api-version", policy);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(format(findings[0]).substr(format(findings[0]).find(": ") + 2),
            "apiVersion: found \"tilehv.io/v0\", expected \"tilehv.io/v1\" [api-version]");
  EXPECT_EQ(findings[0].line, 2);
}

TEST(PolicyChecks, UniqueNames) {
  Policy policy = valid_policy();
  policy.partitions[2].name = "controller";
  policy.channels[1].name = "readings";
  const auto findings = run("unique-names", policy);
  ASSERT_EQ(findings.size(), 2U);
  EXPECT_EQ(findings[0].path, "partitions[2].name");
  EXPECT_EQ(findings[0].found, "\"controller\", the name of partitions[1] too");
  EXPECT_EQ(findings[1].path, "channels[1].name");
}

TEST(PolicyChecks, ResourcesFitTile) {
  Policy policy = valid_policy();
  policy.partitions[0].memory_bytes = 700ULL << 20;  // with 32M and then 64M: 796M of 768M
  auto findings = run("resources-fit-tile", policy);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].path, "partitions[2].memory");  // where the sum first passes
  EXPECT_EQ(findings[0].expected, "at most 768M in total (tile memory 1G less the reserve 256M)");

  policy = valid_policy();
  policy.partitions[1].cpus = {0};  // the host reserve
  findings = run("resources-fit-tile", policy);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].found, "CPU 0 of the host reserve");

  policy = valid_policy();
  policy.partitions[1].vcpus = 2;  // pinned to one CPU
  findings = run("resources-fit-tile", policy);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].path, "partitions[1].vcpus");
}

TEST(PolicyChecks, ExclusiveCpus) {
  Policy policy = valid_policy();
  policy.partitions[2].cpus = {2, 3};  // shared, but on the pinned controller's CPU 3
  const auto findings = run("exclusive-cpus", policy);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].path, "partitions[2].cpu.cpus");
  EXPECT_EQ(findings[0].found, "CPU 3, which \"controller\" (partitions[1]) holds pinned");
}

TEST(PolicyChecks, SensorExistsAndOwnership) {
  Policy policy = valid_policy();
  policy.partitions[2].sensors.push_back(SensorAssignment{"wind", std::nullopt, {}});
  policy.partitions[2].sensors.push_back(SensorAssignment{"beam", std::nullopt, {}});
  auto findings = run("sensor-exists", policy);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].path, "partitions[2].devices.sensors[0].sensor");
  findings = run("sensor-ownership", policy);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].path, "partitions[2].devices.sensors[1].sensor");
  // Declared shared-read, it may go to both.
  policy.tile.sensors[1].shared_read = true;
  EXPECT_TRUE(run("sensor-ownership", policy).empty());
}

TEST(PolicyChecks, RateBoundsComeFromTheDeviceModel) {
  Policy policy = valid_policy();
  // thermal: 0.1 to 10 Hz.
  policy.partitions[0].sensors[0].rate_hz = RateBoundsHz{0.1, 10};
  EXPECT_TRUE(run("rate-bounds", policy).empty());
  policy.partitions[0].sensors[0].rate_hz = RateBoundsHz{0.1, 10.5};
  auto findings = run("rate-bounds", policy);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].expected, "bounds within what the temperature channel of a thermal sensor does: 0.1 to 10 Hz");
  // piezo: every channel must allow them (vibration 10 to 10000 Hz, strain 1 to 100 Hz).
  policy = valid_policy();
  policy.partitions[0].sensors[1].rate_hz = RateBoundsHz{10, 100};
  EXPECT_TRUE(run("rate-bounds", policy).empty());
  policy.partitions[0].sensors[1].rate_hz = RateBoundsHz{10, 200};
  findings = run("rate-bounds", policy);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_NE(findings[0].expected.find("strain"), std::string::npos);
}

TEST(PolicyChecks, SensorSources) {
  Policy policy = valid_policy();
  policy.tile.sensors[1].source.kind = SensorSourceKind::kTrace;
  policy.tile.sensors[1].source.trace = "../images/alpha.elf";  // exists: its content is the source's business
  EXPECT_TRUE(run("sensor-sources", policy).empty());
  policy.tile.sensors[1].source.trace = "../images";
  ASSERT_EQ(run("sensor-sources", policy).size(), 1U);
}

TEST(PolicyChecks, Network) {
  Policy policy = valid_policy();
  policy.partitions[2].network->mac = "02:00:00:00:00:01";
  policy.partitions[0].network->mtu = 9001;
  policy.partitions[0].network->allow_peers = std::vector<std::string>{"controller"};
  const auto findings = run("network", policy);
  ASSERT_EQ(findings.size(), 3U);
  EXPECT_EQ(findings[0].path, "partitions[0].devices.network.mtu");
  EXPECT_EQ(findings[1].path, "partitions[0].devices.network.allowPeers[0]");
  EXPECT_EQ(findings[2].path, "partitions[2].devices.network.mac");
  EXPECT_EQ(findings[2].found, "\"02:00:00:00:00:01\", the address of \"logger\" (partitions[0]) too");
  policy = valid_policy();
  policy.partitions[0].network->mac = "00:00:00:00:00:00";
  ASSERT_EQ(run("network", policy).size(), 1U);
  policy.partitions[0].network->mac = "ff:ff:ff:ff:ff:ff";
  ASSERT_EQ(run("network", policy).size(), 1U);
  policy.partitions[0].network->mac = "02-00-00-00-00-01";
  ASSERT_EQ(run("network", policy).size(), 1U);
}

TEST(PolicyChecks, Channels) {
  Policy policy = valid_policy();
  policy.channels.push_back(ChannelDecl{"again", "controller", "aggregator", 5000, {}});
  policy.channels.push_back(ChannelDecl{"edge", "logger", "aggregator", kMaxVsockPort, {}});
  policy.channels.push_back(ChannelDecl{"past", "logger", "aggregator", kMaxVsockPort + 1, {}});
  policy.channels.push_back(ChannelDecl{"moon", "moon", "host", 1, {}});
  const auto findings = run("channels", policy);
  ASSERT_EQ(findings.size(), 3U);
  EXPECT_EQ(findings[0].path, "channels[2].port");
  EXPECT_EQ(findings[1].path, "channels[4].port");
  EXPECT_EQ(findings[2].path, "channels[5].client");
}

TEST(PolicyChecks, ImagesMustMatchTheirSha256) {
  Policy policy = valid_policy();
  policy.partitions[1].sha256 = policy.partitions[0].sha256;
  auto findings = run("images", policy);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].path, "partitions[1].sha256");
  EXPECT_EQ(findings[0].line, 65);
}

TEST(PolicyChecks, AnImageLargerThanItsPartitionIsNotHashed) {
  testing::ScratchDir scratch;
  const auto image = scratch.path() / "big.elf";
  testing::write_text(image, std::string((4U << 20) + 1, 'k'));
  Policy policy = valid_policy();
  policy.partitions[0].image = "big.elf";
  policy.partitions[0].image_resolved = image.string();
  policy.partitions[0].memory_bytes = 4U << 20;
  const auto findings = run("images", policy);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].expected, "an image no larger than the partition's memory (4M)");
}

TEST(PolicyChecks, Restart) {
  Policy policy = valid_policy();
  policy.partitions[2].restart.backoff_initial_ms = 40000;  // above the default maximum, 30000
  const auto findings = run("restart", policy);
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].expected, "at most backoffMaxMs (30000)");
}

TEST(PolicyChecks, UnjailedNeedsTheSentenceWordForWord) {
  Policy policy = valid_policy();
  policy.unjailed_statement = kUnjailedSentence;
  EXPECT_TRUE(run("unjailed", policy).empty());
  policy.unjailed_statement = std::string(kUnjailedSentence) + " ";
  EXPECT_EQ(run("unjailed", policy).size(), 1U);
  policy.unjailed_statement = "";
  EXPECT_EQ(run("unjailed", policy).size(), 1U);
}

TEST(PolicyChecks, TheSentenceLoadsAsPermission) {
  std::string text = testing::read_text(testing::data_dir() / "valid/base.json");
  text.insert(text.rfind('}'), fmt::format(",\"development\": {{\"unjailed\": \"{}\"}}\n", kUnjailedSentence));
  auto loaded = load_policy_text(text, "unjailed.json", testing::data_dir() / "valid", Format::kJson);
  ASSERT_TRUE(loaded) << format(loaded.error());
  EXPECT_TRUE(loaded->allow_unjailed);
}

}  // namespace
}  // namespace tilehv::policy
