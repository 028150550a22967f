// Tests for the I/O plane's uplink on a host TAP device: frames between the host and the partitions
// whose allow-lists name "uplink"; what the host may not send (a partition's address, frames beyond
// the MTU) dropped and counted; an uplink that cannot be opened refused with its name; the uplink
// added, moved to another TAP and removed by reconfigure(); the host's frames held with the traffic.
//
// The host's side is a packet socket on a real TAP: it sends frames as the host's stack would and
// sees the frames the plane hands the host.
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "ioplane/io_plane.hpp"
#include "net/tap_backend.hpp"
#include "port/plane_client.hpp"
#include "support/host_tap.hpp"

namespace tilehv::ioplane {
namespace {

using namespace std::chrono_literals;
using vdevices::port::PlaneClient;
using vdevices::port::PortEndpoint;
using vdevices::port::PortSide;
using vdevices::port::PushResult;

const MacAddress kMacA{{0x02, 0x74, 0x68, 0x00, 0x00, 0x0a}};
const MacAddress kMacB{{0x02, 0x74, 0x68, 0x00, 0x00, 0x0b}};
const MacAddress kHostMac{{0x02, 0x99, 0x00, 0x00, 0x00, 0x01}};  // a host behind the uplink
const MacAddress kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
// IEEE 802 local experimental ethertype: frames of this test, told apart from anything else.
constexpr std::uint16_t kTestEthertype = 0x88b5;
constexpr std::size_t kTagOffset = 14;

std::vector<std::uint8_t> frame(const MacAddress& from, const MacAddress& to, std::uint8_t tag, std::size_t size = 64) {
  std::vector<std::uint8_t> f(size, 0);
  std::copy(to.bytes.begin(), to.bytes.end(), f.begin());
  std::copy(from.bytes.begin(), from.bytes.end(), f.begin() + 6);
  f[12] = kTestEthertype >> 8;
  f[13] = kTestEthertype & 0xff;
  f[kTagOffset] = tag;
  return f;
}

bool is_test_frame(const std::vector<std::uint8_t>& f) {
  return f.size() > kTagOffset && f[12] == (kTestEthertype >> 8) && f[13] == (kTestEthertype & 0xff);
}

// The host's end of a TAP, as a packet socket bound to it.
class HostSide {
 public:
  explicit HostSide(const std::string& tap) {
    fd_.reset(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
    EXPECT_TRUE(fd_) << "packet socket: " << std::strerror(errno);
    sockaddr_ll address{};
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = static_cast<int>(::if_nametoindex(tap.c_str()));
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0) << std::strerror(errno);
  }
  // Sends a frame out of the host's stack onto the TAP: the plane reads it there.
  void send(const std::vector<std::uint8_t>& f) {
    ASSERT_EQ(::send(fd_.get(), f.data(), f.size(), 0), static_cast<ssize_t>(f.size())) << std::strerror(errno);
  }
  // The test's frames the host received from the plane within `wait` (the host's own are skipped).
  std::vector<std::vector<std::uint8_t>> received(std::chrono::milliseconds wait) {
    std::vector<std::vector<std::uint8_t>> frames;
    const auto end = std::chrono::steady_clock::now() + wait;
    std::vector<std::uint8_t> buffer(65536);
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) != 1) continue;
      sockaddr_ll from{};
      socklen_t length = sizeof from;
      const ssize_t n = ::recvfrom(fd_.get(), buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &length);
      if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING) continue;
      std::vector<std::uint8_t> f(buffer.begin(), buffer.begin() + n);
      if (is_test_frame(f)) frames.push_back(std::move(f));
    }
    return frames;
  }

 private:
  util::UniqueFd fd_;
};

// A VMM's side of one port: the client that holds it and the device's endpoint.
struct Vmm {
  std::unique_ptr<PlaneClient> client;
  std::optional<PortEndpoint> device;

  // The test's frames that arrive within `wait`, or until one with tag `until` arrives.
  std::vector<std::vector<std::uint8_t>> received(std::chrono::milliseconds wait, int until = -1) {
    std::vector<std::vector<std::uint8_t>> frames;
    std::vector<std::uint8_t> out(device->max_message());
    const auto end = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < end) {
      auto got = device->receive(out);
      if (!got || !got->has_value()) {
        std::this_thread::sleep_for(1ms);
        continue;
      }
      std::vector<std::uint8_t> f(out.begin(), out.begin() + **got);
      if (!is_test_frame(f)) continue;
      frames.push_back(std::move(f));
      if (frames.back()[kTagOffset] == until) break;
    }
    return frames;
  }
};

Vmm connect(IoPlane& plane, const std::string& port) {
  Vmm vmm;
  auto link = plane.open_link({"net:" + port});
  EXPECT_TRUE(link) << (link ? "" : link.error());
  vmm.client = std::make_unique<PlaneClient>(std::move(*link));
  auto grant = vmm.client->request({"net", port}, 5s);
  EXPECT_TRUE(grant) << (grant ? "" : grant.error());
  auto endpoint = PortEndpoint::attach(std::move(grant->fds), PortSide::kDevice);
  EXPECT_TRUE(endpoint) << (endpoint ? "" : endpoint.error());
  vmm.device.emplace(std::move(*endpoint));
  return vmm;
}

std::vector<int> tags(const std::vector<std::vector<std::uint8_t>>& frames) {
  std::vector<int> out;
  for (const auto& f : frames) out.push_back(f[kTagOffset]);
  return out;
}

const AllowList kUplinkOnly{std::set<std::string>{"uplink"}, {}};

TEST(IoPlaneUplinkTest, AnUplinkTapThatCannotBeOpenedIsAClearError) {
  PlaneConfig config;
  config.uplink = PlaneUplink{"tilehv-uplink-too-long", 1500};
  auto plane = IoPlane::create(config);
  ASSERT_FALSE(plane);
  EXPECT_NE(plane.error().find("cannot open the uplink TAP tilehv-uplink-too-long"), std::string::npos) << plane.error();
  EXPECT_NE(plane.error().find("1 to 15 characters"), std::string::npos) << plane.error();

  if (::access("/dev/net/tun", R_OK | W_OK) != 0) GTEST_SKIP() << "the rest needs /dev/net/tun";
  // A device of the host that is no TAP.
  config.uplink = PlaneUplink{"lo", 1500};
  plane = IoPlane::create(config);
  ASSERT_FALSE(plane);
  EXPECT_NE(plane.error().find("cannot open the uplink TAP lo: "), std::string::npos) << plane.error();
}

TEST(IoPlaneUplinkTest, ATapHeldByAnotherProcessIsAClearError) {
  if (const auto reason = testing::host_tap_unavailable_reason(); !reason.empty()) GTEST_SKIP() << reason;
  testing::HostTap tap("tlub");
  ASSERT_TRUE(tap.create());
  auto held = vdevices::TapBackend::open(tap.name());  // as a VMM given the TAP would hold it
  ASSERT_TRUE(held) << held.error();
  PlaneConfig config;
  config.uplink = PlaneUplink{tap.name(), 1500};
  auto plane = IoPlane::create(config);
  ASSERT_FALSE(plane);
  EXPECT_NE(plane.error().find("cannot open the uplink TAP " + tap.name()), std::string::npos) << plane.error();
  EXPECT_NE(plane.error().find("busy"), std::string::npos) << plane.error();
}

TEST(IoPlaneUplinkTest, APortNamedLikeTheUplinkIsRefused) {
  PlaneConfig config;
  config.net_ports = {{"uplink", kMacA, 1500, {}}};
  config.uplink = PlaneUplink{"tap0", 1500};
  auto plane = IoPlane::create(config);
  ASSERT_FALSE(plane);
  EXPECT_NE(plane.error().find("may not be named \"uplink\""), std::string::npos) << plane.error();
}

class UplinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto reason = testing::host_tap_unavailable_reason(); !reason.empty()) GTEST_SKIP() << reason;
    ASSERT_TRUE(tap_.create(std::nullopt, 9000));
  }
  PlaneConfig config(std::vector<PlaneNetPort> ports, std::optional<std::string> uplink) const {
    PlaneConfig c;
    c.net_ports = std::move(ports);
    if (uplink) c.uplink = PlaneUplink{*uplink, 1500};
    return c;
  }
  std::unique_ptr<IoPlane> start(PlaneConfig c) {
    auto plane = IoPlane::create(std::move(c));
    EXPECT_TRUE(plane) << plane.error();
    return plane ? std::move(*plane) : nullptr;
  }
  SwitchPortCounters uplink_port() const {
    auto c = plane_->counters("uplink");
    return c ? *c : SwitchPortCounters{};
  }

  testing::HostTap tap_{"tlua"};
  std::unique_ptr<IoPlane> plane_;
};

TEST_F(UplinkTest, FramesFlowBetweenTheHostAndTheAllowedPartitionOnly) {
  // a may talk to the host; b only to a (and a not to b): the host's frames never reach b.
  plane_ = start(config({{"a", kMacA, 1500, kUplinkOnly}, {"b", kMacB, 1500, AllowList{std::set<std::string>{"a"}, {}}}},
                        tap_.name()));
  ASSERT_TRUE(plane_);
  Vmm a = connect(*plane_, "a");
  Vmm b = connect(*plane_, "b");
  HostSide host(tap_.name());

  host.send(frame(kHostMac, kBroadcast, 1));
  host.send(frame(kHostMac, kMacA, 2));
  EXPECT_EQ(tags(a.received(2s, 2)), (std::vector<int>{1, 2}));
  EXPECT_TRUE(b.received(50ms).empty());

  // The host's address was learned behind the uplink: a's answer goes there.
  ASSERT_EQ(*a.device->send(frame(kMacA, kHostMac, 3)), PushResult::kPushed);
  // b is not allowed the uplink: neither its broadcast nor its unicast reaches the host.
  ASSERT_EQ(*b.device->send(frame(kMacB, kBroadcast, 4)), PushResult::kPushed);
  ASSERT_EQ(*b.device->send(frame(kMacB, kHostMac, 5)), PushResult::kPushed);
  EXPECT_EQ(tags(host.received(300ms)), (std::vector<int>{3}));

  const auto up = uplink_port();
  EXPECT_GE(up.rx_frames, 2U);
  EXPECT_EQ(up.tx_frames, 1U);
  EXPECT_EQ(up.dropped(DropReason::kSpoofedSource), 0U);
  EXPECT_EQ(plane_->counters("b")->dropped(DropReason::kDisallowed), 2U);
  EXPECT_EQ(plane_->counters("a")->tx_frames, 2U);
}

TEST_F(UplinkTest, FramesFromTheTapWithAPartitionsAddressAreDroppedAsSpoofed) {
  plane_ = start(config({{"a", kMacA, 1500, {}}}, tap_.name()));
  ASSERT_TRUE(plane_);
  Vmm a = connect(*plane_, "a");
  HostSide host(tap_.name());

  host.send(frame(kMacA, kBroadcast, 1));
  host.send(frame(kMacA, kMacA, 2));
  host.send(frame(kHostMac, kMacA, 3));  // frames are served in order: once this one is in, so are those
  EXPECT_EQ(tags(a.received(2s, 3)), (std::vector<int>{3}));
  EXPECT_EQ(uplink_port().dropped(DropReason::kSpoofedSource), 2U);
  // The uplink did not take a's address: a frame for it still reaches a, from the host as well.
  host.send(frame(kHostMac, kMacA, 4));
  EXPECT_EQ(tags(a.received(2s, 4)), (std::vector<int>{4}));
}

TEST_F(UplinkTest, FramesBeyondTheMtuAreDroppedAndCountedBothWays) {
  plane_ = start(config({{"a", kMacA, 1500, {}}}, tap_.name()));
  ASSERT_TRUE(plane_);
  Vmm a = connect(*plane_, "a");
  HostSide host(tap_.name());

  // The TAP's own MTU is 9000; the uplink's is 1500: 1518 bytes with a VLAN tag's room, no more.
  host.send(frame(kHostMac, kMacA, 1, 1519));
  host.send(frame(kHostMac, kMacA, 2, 1518));
  const auto arrived = a.received(2s, 2);
  ASSERT_EQ(tags(arrived), (std::vector<int>{2}));
  EXPECT_EQ(arrived[0].size(), 1518U);
  EXPECT_EQ(plane_->uplink_counters()->oversized_in, 1U);
  const auto rx = uplink_port().rx_frames;

  ASSERT_EQ(*a.device->send(frame(kMacA, kHostMac, 3, 1519)), PushResult::kPushed);
  ASSERT_EQ(*a.device->send(frame(kMacA, kHostMac, 4, 1518)), PushResult::kPushed);
  EXPECT_EQ(tags(host.received(300ms)), (std::vector<int>{4}));
  EXPECT_EQ(plane_->uplink_counters()->oversized_out, 1U);
  EXPECT_EQ(uplink_port().tx_frames, 1U);
  EXPECT_EQ(uplink_port().rx_frames, rx) << "the oversized frame never entered the switch";
}

TEST_F(UplinkTest, ReconfigureAddsMovesAndRemovesTheUplink) {
  testing::HostTap other("tluc");
  ASSERT_TRUE(other.create());
  const std::vector<PlaneNetPort> ports{{"a", kMacA, 1500, {}}};
  plane_ = start(config(ports, std::nullopt));
  ASSERT_TRUE(plane_);
  Vmm a = connect(*plane_, "a");
  EXPECT_FALSE(plane_->counters("uplink"));
  EXPECT_FALSE(plane_->uplink_counters());

  // Added.
  ASSERT_TRUE(plane_->reconfigure(config(ports, tap_.name())));
  HostSide host(tap_.name());
  host.send(frame(kHostMac, kMacA, 1));
  EXPECT_EQ(tags(a.received(2s, 1)), (std::vector<int>{1}));

  // A TAP that cannot be opened: refused with its name, and the uplink in place serves on.
  auto refused = plane_->reconfigure(config(ports, std::string("lo")));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("cannot open the uplink TAP lo"), std::string::npos) << refused.error();
  host.send(frame(kHostMac, kMacA, 2));
  EXPECT_EQ(tags(a.received(2s, 2)), (std::vector<int>{2}));

  // Moved: the new TAP serves, the old one is let go (so another may attach to it).
  ASSERT_TRUE(plane_->reconfigure(config(ports, other.name())));
  HostSide other_host(other.name());
  other_host.send(frame(kHostMac, kMacA, 3));
  EXPECT_EQ(tags(a.received(2s, 3)), (std::vector<int>{3}));
  EXPECT_TRUE(vdevices::TapBackend::open(tap_.name())) << "the plane still holds the old TAP";
  EXPECT_EQ(uplink_port().rx_frames, 1U) << "another TAP is another port";

  // Removed: the counters stay readable, and the TAP is free.
  ASSERT_TRUE(plane_->reconfigure(config(ports, std::nullopt)));
  ASSERT_TRUE(plane_->counters("uplink"));
  EXPECT_EQ(plane_->counters("uplink")->rx_frames, 1U);
  EXPECT_TRUE(plane_->uplink_counters());
  EXPECT_TRUE(vdevices::TapBackend::open(other.name())) << "the plane still holds the TAP";
  ASSERT_EQ(*a.device->send(frame(kMacA, kHostMac, 4)), PushResult::kPushed);
  EXPECT_TRUE(other_host.received(100ms).empty());
}

TEST_F(UplinkTest, ATapThatGoesAwayIsCutOffWhileThePartitionsRunOn) {
  const std::vector<PlaneNetPort> ports{{"a", kMacA, 1500, {}}, {"b", kMacB, 1500, {}}};
  plane_ = start(config(ports, tap_.name()));
  ASSERT_TRUE(plane_);
  Vmm a = connect(*plane_, "a");
  Vmm b = connect(*plane_, "b");
  {
    HostSide host(tap_.name());
    host.send(frame(kHostMac, kMacA, 1));
    EXPECT_EQ(tags(a.received(2s, 1)), (std::vector<int>{1}));
  }
  tap_.remove();  // the operator deletes the device under the plane
  for (int i = 0; i < 200 && plane_->metrics().ports_cut_off.load() == 0; ++i) {
    // The plane learns it when it next uses the TAP.
    ASSERT_EQ(*a.device->send(frame(kMacA, kHostMac, 2)), PushResult::kPushed);
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(plane_->metrics().ports_cut_off.load(), 1U);
  ASSERT_TRUE(plane_->counters("uplink")) << "its counters stay readable";
  EXPECT_EQ(plane_->counters("uplink")->rx_frames, 1U);
  ASSERT_EQ(*a.device->send(frame(kMacA, kMacB, 3)), PushResult::kPushed);
  EXPECT_EQ(tags(b.received(2s, 3)), (std::vector<int>{3}));
  // The same policy applied again brings it back once the device is there.
  ASSERT_TRUE(tap_.create());
  ASSERT_TRUE(plane_->reconfigure(config(ports, tap_.name())));
  HostSide host(tap_.name());
  host.send(frame(kHostMac, kMacA, 4));
  EXPECT_EQ(tags(a.received(2s, 4)), (std::vector<int>{4}));
}

TEST_F(UplinkTest, TheHostsFramesWaitWhileTrafficIsHeld) {
  plane_ = start(config({{"a", kMacA, 1500, {}}}, tap_.name()));
  ASSERT_TRUE(plane_);
  Vmm a = connect(*plane_, "a");
  HostSide host(tap_.name());
  plane_->hold_traffic();
  host.send(frame(kHostMac, kMacA, 1));
  EXPECT_TRUE(a.received(100ms).empty()) << "a held plane serves no uplink";
  plane_->release_traffic();
  EXPECT_EQ(tags(a.received(2s, 1)), (std::vector<int>{1}));
}

}  // namespace
}  // namespace tilehv::ioplane
