// Tests for PlaneBinding's uplink: the policy's tile.uplink.tap becomes the plane's uplink (the
// switch port that allow-lists name "uplink"), with an MTU that lets through what the partitions'
// devices can take.
#include <gtest/gtest.h>

#include "daemon/plane_binding.hpp"

namespace tilehv::daemon {
namespace {

policy::Partition networked(const std::string& name, std::uint32_t mtu, std::optional<std::vector<std::string>> peers) {
  policy::Partition p;
  p.name = name;
  p.network = policy::NetworkAttachment{};
  p.network->mtu = mtu;
  p.network->allow_peers = std::move(peers);
  return p;
}

TEST(PlaneBindingTest, NoUplinkTapNoUplink) {
  policy::Policy policy;
  policy.partitions = {networked("a", 1500, std::nullopt)};
  auto bound = bind_plane(policy);
  ASSERT_TRUE(bound) << bound.error();
  EXPECT_FALSE(bound->config.uplink);
}

TEST(PlaneBindingTest, TheUplinkTapBecomesThePlanesUplinkAndAllowListsNameIt) {
  policy::Policy policy;
  policy.tile.uplink_tap = "tile0";
  policy.partitions = {networked("a", 1500, std::vector<std::string>{"uplink"}),
                       networked("b", 9000, std::vector<std::string>{"a"})};
  auto bound = bind_plane(policy);
  ASSERT_TRUE(bound) << bound.error();
  ASSERT_TRUE(bound->config.uplink);
  EXPECT_EQ(bound->config.uplink->tap, "tile0");
  EXPECT_EQ(bound->config.uplink->mtu, 9000) << "the largest MTU of the partitions' devices";
  // The switch matches allow-lists by port name, and the uplink's port is named "uplink".
  ASSERT_EQ(bound->config.net_ports.size(), 2U);
  ASSERT_TRUE(bound->config.net_ports[0].allow.peers);
  EXPECT_EQ(*bound->config.net_ports[0].allow.peers, (std::set<std::string>{ioplane::UplinkTap::kPortName}));
  // The VMMs are never given the TAP: it is the plane's.
  for (const auto& [name, ports] : bound->partitions) {
    for (const std::string& grant : ports.grants) EXPECT_EQ(grant.find("tile0"), std::string::npos) << grant;
  }
  // An apply keeps the uplink of the policy it moves to.
  policy::Policy without = policy;
  without.tile.uplink_tap.reset();
  auto before = bind_plane(without);
  ASSERT_TRUE(before);
  EXPECT_EQ(merged(before->config, bound->config).uplink, bound->config.uplink);
  EXPECT_FALSE(merged(bound->config, before->config).uplink);
}

TEST(PlaneBindingTest, AnUplinkWithoutNetworkedPartitionsHasTheDefaultMtu) {
  policy::Policy policy;
  policy.tile.uplink_tap = "tile0";
  auto bound = bind_plane(policy);
  ASSERT_TRUE(bound) << bound.error();
  ASSERT_TRUE(bound->config.uplink);
  EXPECT_EQ(bound->config.uplink->mtu, 1500);
}

}  // namespace
}  // namespace tilehv::daemon
