// Integration test for the switch's uplink: a real tilehv process on a port of an I/O plane (hosted
// by the test process, as the tile daemon hosts it) exchanges UDP with the host's own network stack
// through the plane's uplink TAP: ARP answered by Linux, datagrams echoed by a socket in this
// process. A partition whose allow-list does not name "uplink" reaches nothing on the host, and its
// frames are counted as disallowed.
#include <future>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ioplane/io_plane.hpp"
#include "support/guest_kernels.hpp"
#include "support/host_tap.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/udp_echo.hpp"

namespace tilehv {
namespace {

using ioplane::DropReason;
using vdevices::MacAddress;

// A subnet of its own: tests run in parallel, and tap_test.cpp's TAP has 10.231.0.0/24.
constexpr const char* kHostAddress = "10.232.0.1";

MacAddress mac(std::uint8_t last) { return MacAddress{{0x02, 0x74, 0x00, 0x00, 0x01, last}}; }

class UplinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TILEHV_REQUIRE_KVM();
    if (const auto reason = testing::host_tap_unavailable_reason(); !reason.empty()) GTEST_SKIP() << reason;
    ASSERT_TRUE(tap_.create(std::string(kHostAddress) + "/24"));
  }
  void start_plane(std::vector<ioplane::PlaneNetPort> ports) {
    ioplane::PlaneConfig config;
    config.net_ports = std::move(ports);
    config.uplink = ioplane::PlaneUplink{tap_.name(), 1500};
    auto plane = ioplane::IoPlane::create(std::move(config));
    ASSERT_TRUE(plane) << plane.error();
    plane_ = std::move(*plane);
    ASSERT_TRUE(plane_->listen(socket_path()));
  }
  std::string socket_path() const { return (dir_.path() / "plane.sock").string(); }
  std::future<testing::ProcessResult> launch(const std::string& port, const std::string& cmdline) const {
    std::vector<std::string> argv{TILEHV_BINARY, "run", "--kernel", testing::guest_kernel("udp-pingpong"), "--net",
                                  "port:" + port, "--plane", socket_path(), "--cmdline", cmdline, "--timeout", "60"};
    return std::async(std::launch::async, [argv] { return testing::run_process(argv, testing::with_limit(std::chrono::seconds(90))); });
  }
  ioplane::SwitchPortCounters counters(const std::string& port) const {
    auto c = plane_->counters(port);
    return c ? *c : ioplane::SwitchPortCounters{};
  }
  std::string describe_port(const std::string& port) const {
    const auto c = counters(port);
    std::string text = fmt::format("{}: in {} frames, out {} frames, drops", port, c.rx_frames, c.tx_frames);
    for (std::size_t i = 0; i < c.drops.size(); ++i) {
      text += fmt::format(" {}={}", ioplane::drop_reason_name(static_cast<DropReason>(i)), c.drops[i]);
    }
    return text + "\n";
  }

  testing::HostTap tap_{"tlui"};
  testing::TempDir dir_;
  std::unique_ptr<ioplane::IoPlane> plane_;
};

TEST_F(UplinkTest, PartitionTalksUdpWithTheHostStackWhileOneNotAllowedIsDropped) {
  // a may talk to the uplink; c only to a (which does not allow c): c's frames reach nobody.
  start_plane({{"a.eth0", mac(1), 1500, ioplane::AllowList{std::set<std::string>{"uplink"}, {}}},
               {"c.eth0", mac(3), 1500, ioplane::AllowList{std::set<std::string>{"a.eth0"}, {}}}});
  testing::UdpEcho echo(kHostAddress, 7777);
  auto intruder = launch("c.eth0", fmt::format("role=ping ip=10.232.0.3 peer={} count=10 wait_ms=1500", kHostAddress));
  auto ping = launch("a.eth0", fmt::format("role=ping ip=10.232.0.2 peer={} count=100 size=200", kHostAddress));
  const auto ping_result = ping.get();
  const auto intruder_result = intruder.get();

  ASSERT_TRUE(ping_result.exited && ping_result.status == 0)
      << ping_result.describe() << describe_port("a.eth0") << describe_port("uplink");
  EXPECT_NE(ping_result.out.find("udp-pingpong: 100 rounds, 200 B, 0 mismatches"), std::string::npos) << ping_result.describe();
  EXPECT_NE(intruder_result.out.find("peer did not answer ARP"), std::string::npos) << intruder_result.describe();
  EXPECT_EQ(echo.echoed("10.232.0.2"), 100);
  EXPECT_EQ(echo.echoed("10.232.0.3"), 0) << "c reached the host";

  // Everything a sent the host crossed the uplink, and the host's answers came back through it.
  const auto a = counters("a.eth0");
  const auto up = counters("uplink");
  EXPECT_GE(up.tx_frames, 100U) << describe_port("uplink");
  EXPECT_GE(up.rx_frames, 100U) << describe_port("uplink");
  EXPECT_GE(a.tx_frames, 100U) << describe_port("a.eth0");
  for (auto d : a.drops) EXPECT_EQ(d, 0U) << describe_port("a.eth0");
  EXPECT_EQ(up.dropped(DropReason::kSpoofedSource), 0U) << describe_port("uplink");
  // Every frame c sent was refused (or found nobody before a attached), and nothing reached c.
  const auto c = counters("c.eth0");
  EXPECT_GT(c.dropped(DropReason::kDisallowed), 0U) << describe_port("c.eth0");
  EXPECT_EQ(c.dropped(DropReason::kDisallowed) + c.dropped(DropReason::kNoDestination), c.rx_frames) << describe_port("c.eth0");
  EXPECT_EQ(c.tx_frames, 0U) << describe_port("c.eth0");
}

}  // namespace
}  // namespace tilehv
