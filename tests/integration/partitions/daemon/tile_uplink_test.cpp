// End-to-end tests of the tile's uplink: a policy's tile.uplink.tap wired by tilehvd, so a
// partition that allows "uplink" exchanges UDP with the host's stack (its VMM never sees the TAP);
// an apply whose uplink TAP cannot be opened fails, names the TAP, and changes nothing.
#include <sys/prctl.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>

#include "net/tap_backend.hpp"
#include "support/host_tap.hpp"
#include "support/kvm_available.hpp"
#include "support/udp_echo.hpp"
#include "tile_fixture.hpp"

namespace tilehv {
namespace {

using testing::PartitionSpec;
using testing::named;

// A subnet of its own: tests run in parallel (tap_test.cpp has 10.231.0.0/24, uplink_test.cpp 10.232).
// Each test process its own /24 (ctest runs the tests of this file in parallel processes, each with
// its own TAP): two TAPs with one subnet would steal each other's routes. 10.234/16 is used by no
// other test.
const std::string kSubnet = fmt::format("10.234.{}", ::getpid() % 250);
const std::string kHostAddress = kSubnet + ".1";
const std::string kGuestAddress = kSubnet + ".2";

std::string with_uplink(const std::string& policy, const std::string& tap) {
  auto p = nlohmann::json::parse(policy);
  p["tile"]["uplink"] = {{"tap", tap}};
  return p.dump(2);
}

class TileUplinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TILEHV_REQUIRE_KVM();
    if (const auto reason = testing::host_tap_unavailable_reason(); !reason.empty()) GTEST_SKIP() << reason;
    ASSERT_TRUE(tap_.create(kHostAddress + "/24"));
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);  // stop_tile_and_reap() reaps the VMMs a killed daemon orphans
    daemon_.start();
  }
  void TearDown() override { testing::stop_tile_and_reap(daemon_); }
  std::string console(const std::string& name) const {
    std::ifstream in(daemon_.state() / "partitions" / name / "console.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  testing::HostTap tap_{"tlud"};
  tilehv::testing::TempDir dir_;
  testing::TileDaemon daemon_{dir_.path()};
};

TEST_F(TileUplinkTest, APartitionAllowedTheUplinkTalksWithTheHost) {
  testing::UdpEcho echo(kHostAddress, 7777);
  PartitionSpec pinger = named("pinger");
  pinger.kernel = "udp-pingpong";
  pinger.cmdline = fmt::format("role=ping ip={} peer={} count=20", kGuestAddress, kHostAddress);
  pinger.devices = {{"network", {{"allowPeers", nlohmann::json::array({"uplink"})}}}};
  const auto applied = daemon_.apply(with_uplink(testing::policy_text({pinger}), tap_.name()));
  ASSERT_EQ(applied.status, 200) << applied.body << daemon_.log_text();
  ASSERT_TRUE(daemon_.wait_for("pinger", [](const nlohmann::json& p) { return p.value("state", "") != "running"; },
                               std::chrono::seconds(30)))
      << daemon_.partition("pinger").dump() << console("pinger");
  EXPECT_NE(console("pinger").find("udp-pingpong: 20 rounds, 64 B, 0 mismatches"), std::string::npos)
      << console("pinger") << daemon_.partition("pinger").dump();
  EXPECT_EQ(echo.echoed(kGuestAddress), 20);
  // The uplink's own counters are in the metrics: at least the 20 echoes (and ARP) came in through it.
  const std::string metrics = daemon_.call("GET", "/metrics").body;
  const auto at = metrics.find("tilehv_uplink_frames_total{direction=\"rx\"} ");
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_GE(std::stoull(metrics.substr(at + 43)), 20U) << metrics.substr(at, 60);
  EXPECT_NE(metrics.find("tilehv_uplink_drops_total{reason=\"runt_from_host\"} 0"), std::string::npos) << metrics;
}

TEST_F(TileUplinkTest, AnApplyWhoseUplinkCannotBeOpenedChangesNothing) {
  ASSERT_EQ(daemon_.apply(testing::policy_text({named("alpha")})).status, 200);
  const int alpha = daemon_.partition("alpha").value("pid", 0);
  // Another holder of the TAP (as a VMM given it with --net tap: would be): the daemon cannot attach.
  auto held = vdevices::TapBackend::open(tap_.name());
  ASSERT_TRUE(held) << held.error();
  const std::string wanted = with_uplink(testing::policy_text({named("alpha"), named("beta")}), tap_.name());
  const auto refused = daemon_.apply(wanted);
  EXPECT_EQ(refused.status, 409) << refused.body;
  const auto body = nlohmann::json::parse(refused.body, nullptr, false);
  EXPECT_EQ(body.value("code", ""), "apply_failed") << refused.body;
  EXPECT_TRUE(body.value("rolled_back", false)) << refused.body;
  EXPECT_NE(body.value("message", "").find("cannot open the uplink TAP " + tap_.name()), std::string::npos) << refused.body;
  EXPECT_TRUE(daemon_.partition("beta").is_null());
  EXPECT_EQ(daemon_.partition("alpha").value("pid", 0), alpha);
  const std::string text = daemon_.json("GET", "/v1/policy").value("text", "");
  EXPECT_EQ(text.find("\"beta\""), std::string::npos) << "the applied policy is still the old one: " << text;
  EXPECT_EQ(text.find("\"tap\""), std::string::npos) << "the applied policy is still the old one: " << text;

  // Once the TAP is free, the same policy applies.
  held = tl::unexpected(std::string("released"));
  const auto applied = daemon_.apply(wanted);
  EXPECT_EQ(applied.status, 200) << applied.body << daemon_.log_text();
  EXPECT_FALSE(daemon_.partition("beta").is_null());
}

}  // namespace
}  // namespace tilehv
