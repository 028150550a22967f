// Integration tests for the tile's network: real tilehv processes, each with a virtio-net device on
// a port of an I/O plane (hosted by the test process, as the tile daemon hosts it), running the SDK's
// UDP kernels across the L2 switch.
#include <unistd.h>

#include <future>
#include <regex>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ioplane/io_plane.hpp"
#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace tilehv {
namespace {

using ioplane::DropReason;
using vdevices::MacAddress;

MacAddress mac(std::uint8_t last) { return MacAddress{{0x02, 0x74, 0x00, 0x00, 0x00, last}}; }

class SwitchTest : public ::testing::Test {
 protected:
  void start_plane(std::vector<ioplane::PlaneNetPort> ports) {
    ioplane::PlaneConfig config;
    config.net_ports = std::move(ports);
    auto plane = ioplane::IoPlane::create(std::move(config));
    ASSERT_TRUE(plane) << plane.error();
    plane_ = std::move(*plane);
    ASSERT_TRUE(plane_->listen(socket_path()));
  }
  std::string socket_path() const { return (dir_.path() / "plane.sock").string(); }

  std::vector<std::string> partition(const std::string& kernel, const std::string& port, const std::string& cmdline,
                                     double timeout = 60) {
    return {TILEHV_BINARY, "run", "--kernel", testing::guest_kernel(kernel), "--net", "port:" + port, "--plane",
            socket_path(), "--cmdline", cmdline, "--timeout", std::to_string(timeout)};
  }
  static std::future<testing::ProcessResult> launch(std::vector<std::string> argv) {
    return std::async(std::launch::async, [argv] { return testing::run_process(argv, testing::with_limit(std::chrono::seconds(90))); });
  }
  std::string describe_port(const std::string& port) const {
    const auto c = counters(port);
    std::string text = fmt::format("{}: in {} frames / {} B, out {} frames / {} B, drops", port, c.rx_frames, c.rx_bytes,
                                   c.tx_frames, c.tx_bytes);
    for (std::size_t i = 0; i < c.drops.size(); ++i) {
      text += fmt::format(" {}={}", ioplane::drop_reason_name(static_cast<DropReason>(i)), c.drops[i]);
    }
    return text + "\n";
  }
  ioplane::SwitchPortCounters counters(const std::string& port) const {
    auto c = plane_->counters(port);
    return c ? *c : ioplane::SwitchPortCounters{};
  }

  testing::TempDir dir_;
  std::unique_ptr<ioplane::IoPlane> plane_;
};

TEST_F(SwitchTest, TwoPartitionsExchangeUdpWithExactCounts) {
  TILEHV_REQUIRE_KVM();
  start_plane({{"a.eth0", mac(1), 1500, {}}, {"b.eth0", mac(2), 1500, {}}});
  auto pong = launch(partition("udp-pingpong", "a.eth0", "role=pong ip=10.0.0.1 peer=10.0.0.2 count=200", 60));
  auto ping = launch(partition("udp-pingpong", "b.eth0", "role=ping ip=10.0.0.2 peer=10.0.0.1 count=200 size=64", 60));
  const auto ping_result = ping.get();
  const auto pong_result = pong.get();
  ASSERT_TRUE(ping_result.exited && ping_result.status == 0)
      << ping_result.describe() << pong_result.describe() << describe_port("a.eth0") << describe_port("b.eth0");
  ASSERT_TRUE(pong_result.exited && pong_result.status == 0) << pong_result.describe();
  EXPECT_NE(ping_result.out.find("udp-pingpong: 200 rounds, 64 B, 0 mismatches"), std::string::npos) << ping_result.describe();
  EXPECT_NE(pong_result.out.find("udp-pingpong: echoed 200"), std::string::npos) << pong_result.describe();
  // Every frame one partition sent reached the other, and nothing was dropped on the way.
  const auto a = counters("a.eth0");
  const auto b = counters("b.eth0");
  EXPECT_EQ(a.rx_frames, b.tx_frames) << describe_port("a.eth0") << describe_port("b.eth0");
  EXPECT_EQ(b.rx_frames, a.tx_frames) << describe_port("a.eth0") << describe_port("b.eth0");
  EXPECT_GE(a.rx_frames, 200U);
  EXPECT_GE(b.rx_frames, 200U);
  for (auto d : a.drops) EXPECT_EQ(d, 0U) << describe_port("a.eth0");
  for (auto d : b.drops) EXPECT_EQ(d, 0U) << describe_port("b.eth0");
}

TEST_F(SwitchTest, DisallowedPartitionIsCutOffAndCountedWhileOthersTalk) {
  TILEHV_REQUIRE_KVM();
  // a and b may talk to each other only; c may talk to a, but a does not allow c.
  const ioplane::AllowList ab{std::set<std::string>{"a.eth0", "b.eth0"}, {}};
  start_plane({{"a.eth0", mac(1), 1500, ab},
               {"b.eth0", mac(2), 1500, ab},
               {"c.eth0", mac(3), 1500, ioplane::AllowList{std::set<std::string>{"a.eth0"}, {}}}});
  auto pong = launch(partition("udp-pingpong", "a.eth0", "role=pong ip=10.0.0.1 peer=10.0.0.2 count=50 wait_ms=20000"));
  auto intruder = launch(partition("udp-pingpong", "c.eth0", "role=ping ip=10.0.0.3 peer=10.0.0.1 count=50 wait_ms=1500"));
  auto ping = launch(partition("udp-pingpong", "b.eth0", "role=ping ip=10.0.0.2 peer=10.0.0.1 count=50"));
  const auto ping_result = ping.get();
  const auto pong_result = pong.get();
  const auto intruder_result = intruder.get();
  EXPECT_NE(ping_result.out.find("udp-pingpong: 50 rounds, 64 B, 0 mismatches"), std::string::npos) << ping_result.describe();
  EXPECT_NE(pong_result.out.find("udp-pingpong: echoed 50"), std::string::npos) << pong_result.describe();
  EXPECT_NE(intruder_result.out.find("peer did not answer ARP"), std::string::npos) << intruder_result.describe();
  const auto c = counters("c.eth0");
  EXPECT_GT(c.dropped(DropReason::kDisallowed), 0U) << describe_port("c.eth0");
  // Every frame c sent was refused, or found nobody there before the others attached.
  EXPECT_EQ(c.dropped(DropReason::kDisallowed) + c.dropped(DropReason::kNoDestination), c.rx_frames) << describe_port("c.eth0");
  EXPECT_EQ(c.tx_frames, 0U) << "nothing reached c";
}

TEST_F(SwitchTest, HostilePartitionOnTheSwitchLeavesItsNeighboursUnharmed) {
  TILEHV_REQUIRE_KVM();
  // c attacks its own virtqueues while a and b exchange datagrams over the same switch.
  start_plane({{"a.eth0", mac(1), 1500, {}}, {"b.eth0", mac(2), 1500, {}}, {"c.eth0", mac(3), 1500, {}}});
  auto attacker = launch({TILEHV_BINARY, "run", "--kernel", testing::guest_kernel("virtq-attack"), "--rng-seed", "3", "--net",
                          "port:c.eth0", "--plane", socket_path(), "--timeout", "60"});
  auto pong = launch(partition("udp-pingpong", "a.eth0", "role=pong ip=10.0.0.1 peer=10.0.0.2 count=100"));
  auto ping = launch(partition("udp-pingpong", "b.eth0", "role=ping ip=10.0.0.2 peer=10.0.0.1 count=100 size=64"));
  const auto ping_result = ping.get();
  const auto pong_result = pong.get();
  const auto attack = attacker.get();
  EXPECT_NE(attack.out.find("virtq-attack: 12/12 attacks contained, device serves again"), std::string::npos) << attack.describe();
  EXPECT_NE(ping_result.out.find("udp-pingpong: 100 rounds, 64 B, 0 mismatches"), std::string::npos) << ping_result.describe();
  EXPECT_NE(pong_result.out.find("udp-pingpong: echoed 100"), std::string::npos) << pong_result.describe();
  for (auto d : counters("a.eth0").drops) EXPECT_EQ(d, 0U) << describe_port("a.eth0");
}

TEST_F(SwitchTest, RefusedPortEndsTheVmmWithTheReason) {
  TILEHV_REQUIRE_KVM();
  start_plane({{"a.eth0", mac(1), 1500, {}}});
  const auto r = testing::run_process(partition("udp-pingpong", "nosuch.eth0", "role=pong"), testing::with_limit(std::chrono::seconds(30)));
  ASSERT_TRUE(r.exited) << r.describe();
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("refused net port nosuch.eth0: no such port"), std::string::npos) << r.describe();
}

TEST_F(SwitchTest, UnreachablePlaneIsAClearError) {
  TILEHV_REQUIRE_KVM();
  const auto r = testing::run_process(partition("udp-pingpong", "a.eth0", "role=pong"), testing::with_limit(std::chrono::seconds(30)));
  ASSERT_TRUE(r.exited) << r.describe();
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("cannot reach the I/O plane"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace tilehv
