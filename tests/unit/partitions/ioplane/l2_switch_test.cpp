// Tests for L2Switch: forwarding to assigned and learned addresses, flooding, anti-spoofing,
// allow-lists and the drop counters.
#include "ioplane/l2_switch.hpp"

#include <gtest/gtest.h>

namespace tilehv::ioplane {
namespace {

MacAddress mac(std::uint8_t last) { return MacAddress{{0x02, 0, 0, 0, 0, last}}; }
const MacAddress kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

std::vector<std::uint8_t> frame(const MacAddress& to, const MacAddress& from, std::uint16_t ethertype = 0x0800,
                                std::size_t size = 64) {
  std::vector<std::uint8_t> f(size);
  std::copy(to.bytes.begin(), to.bytes.end(), f.begin());
  std::copy(from.bytes.begin(), from.bytes.end(), f.begin() + 6);
  f[12] = static_cast<std::uint8_t>(ethertype >> 8);
  f[13] = static_cast<std::uint8_t>(ethertype);
  return f;
}

class L2SwitchTest : public ::testing::Test {
 protected:
  L2SwitchTest() {
    a_ = *sw_.add_port({"a", mac(1), false, {}});
    b_ = *sw_.add_port({"b", mac(2), false, {}});
    c_ = *sw_.add_port({"c", mac(3), false, {}});
  }
  std::vector<SwitchPortId> forward(SwitchPortId in, const std::vector<std::uint8_t>& f) {
    std::vector<SwitchPortId> out;
    sw_.forward(in, f, out);
    return out;
  }
  L2Switch sw_;
  SwitchPortId a_{}, b_{}, c_{};
};

TEST_F(L2SwitchTest, UnicastGoesToTheOwnerOnly) {
  EXPECT_EQ(forward(a_, frame(mac(2), mac(1))), std::vector<SwitchPortId>{b_});
  EXPECT_EQ(sw_.counters(a_)->rx_frames, 1U);
}

TEST_F(L2SwitchTest, BroadcastFloodsEveryOtherPort) {
  EXPECT_EQ(forward(a_, frame(kBroadcast, mac(1))), (std::vector<SwitchPortId>{b_, c_}));
}

TEST_F(L2SwitchTest, SpoofedSourceIsDroppedAndCounted) {
  EXPECT_TRUE(forward(a_, frame(mac(2), mac(3))).empty());   // a claims to be c
  EXPECT_TRUE(forward(a_, frame(mac(2), mac(99))).empty());  // a claims an unknown address
  EXPECT_EQ(sw_.counters(a_)->dropped(DropReason::kSpoofedSource), 2U);
}

TEST_F(L2SwitchTest, GroupSourceAndRuntsAreDropped) {
  EXPECT_TRUE(forward(a_, frame(mac(2), kBroadcast)).empty());
  EXPECT_TRUE(forward(a_, std::vector<std::uint8_t>(13)).empty());
  EXPECT_EQ(sw_.counters(a_)->dropped(DropReason::kGroupSource), 1U);
  EXPECT_EQ(sw_.counters(a_)->dropped(DropReason::kRunt), 1U);
}

TEST_F(L2SwitchTest, AllowListsOfBothEndsApply) {
  sw_.set_allow_list(a_, AllowList{std::set<std::string>{"b"}, {}});
  EXPECT_EQ(forward(a_, frame(mac(2), mac(1))), std::vector<SwitchPortId>{b_});
  EXPECT_TRUE(forward(a_, frame(mac(3), mac(1))).empty());
  EXPECT_EQ(sw_.counters(a_)->dropped(DropReason::kDisallowed), 1U);
  // c may not receive from a, so c's frames to a are refused too (a does not list c).
  EXPECT_TRUE(forward(c_, frame(mac(1), mac(3))).empty());
  EXPECT_EQ(sw_.counters(c_)->dropped(DropReason::kDisallowed), 1U);
  // Broadcast from a reaches only b.
  EXPECT_EQ(forward(a_, frame(kBroadcast, mac(1))), std::vector<SwitchPortId>{b_});
}

TEST_F(L2SwitchTest, EthertypeAllowListLooksInsideVlanTags) {
  sw_.set_allow_list(b_, AllowList{std::nullopt, {0x0806}});  // b speaks ARP only
  EXPECT_TRUE(forward(a_, frame(mac(2), mac(1), 0x0800)).empty());
  EXPECT_EQ(forward(a_, frame(mac(2), mac(1), 0x0806)), std::vector<SwitchPortId>{b_});
  auto tagged = frame(mac(2), mac(1), L2Switch::kEthertypeVlan);
  tagged[16] = 0x08;
  tagged[17] = 0x00;  // IPv4 inside the tag
  EXPECT_TRUE(forward(a_, tagged).empty());
}

TEST_F(L2SwitchTest, UplinkAddressesAreLearnedButCannotClaimPartitions) {
  const SwitchPortId up = *sw_.add_port({"uplink", {}, true, {}});
  EXPECT_EQ(forward(up, frame(mac(1), mac(50))), std::vector<SwitchPortId>{a_});
  EXPECT_EQ(forward(a_, frame(mac(50), mac(1))), std::vector<SwitchPortId>{up});  // learned
  EXPECT_TRUE(forward(up, frame(mac(1), mac(2))).empty());  // the uplink claims b's address
  EXPECT_EQ(sw_.counters(up)->dropped(DropReason::kSpoofedSource), 1U);
}

TEST_F(L2SwitchTest, LearnedTableIsBounded) {
  L2Switch small(4);
  const SwitchPortId up = *small.add_port({"uplink", {}, true, {}});
  ASSERT_TRUE(small.add_port({"a", mac(1), false, {}}));
  std::vector<SwitchPortId> out;
  for (std::uint8_t i = 10; i < 30; ++i) small.forward(up, frame(mac(1), mac(i)), out);
  EXPECT_EQ(small.learned_addresses(), 4U);
}

TEST_F(L2SwitchTest, DuplicateNamesAndAddressesAreRefused) {
  EXPECT_FALSE(sw_.add_port({"a", mac(9), false, {}}));
  EXPECT_FALSE(sw_.add_port({"d", mac(1), false, {}}));
  EXPECT_FALSE(sw_.add_port({"e", kBroadcast, false, {}}));
}

TEST_F(L2SwitchTest, FrameWithNobodyToReceiveItIsCounted) {
  L2Switch alone;
  const SwitchPortId only = *alone.add_port({"a", mac(1), false, {}});
  std::vector<SwitchPortId> out;
  alone.forward(only, frame(kBroadcast, mac(1)), out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(alone.counters(only)->dropped(DropReason::kNoDestination), 1U);
}

TEST_F(L2SwitchTest, RemovedPortReceivesNothingAndItsAddressIsFree) {
  sw_.remove_port(b_);
  EXPECT_EQ(forward(a_, frame(kBroadcast, mac(1))), std::vector<SwitchPortId>{c_});
  EXPECT_TRUE(sw_.add_port({"b2", mac(2), false, {}}));
}

}  // namespace
}  // namespace tilehv::ioplane
