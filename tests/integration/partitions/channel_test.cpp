// Integration tests for channels: real tilehv processes with virtio-vsock devices on channel ports of
// an I/O plane hosted by the test process, running the SDK's channel-echo kernel.
#include <future>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ioplane/io_plane.hpp"
#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace tilehv {
namespace {

class ChannelTest : public ::testing::Test {
 protected:
  void start_plane(std::vector<ioplane::ChannelDeclaration> channels) {
    ioplane::PlaneConfig config;
    config.vsock_ports = {{"server.vsock", 3}, {"client.vsock", 4}, {"stranger.vsock", 5}};
    config.channels = std::move(channels);
    auto plane = ioplane::IoPlane::create(std::move(config));
    ASSERT_TRUE(plane) << plane.error();
    plane_ = std::move(*plane);
    ASSERT_TRUE(plane_->listen(socket_path()));
  }
  std::string socket_path() const { return (dir_.path() / "plane.sock").string(); }
  std::vector<std::string> partition(const std::string& port, const std::string& cmdline) {
    return {TILEHV_BINARY, "run", "--kernel", testing::guest_kernel("channel-echo"), "--vsock", "port:" + port,
            "--plane", socket_path(), "--cmdline", cmdline, "--timeout", "60"};
  }
  static std::future<testing::ProcessResult> launch(std::vector<std::string> argv) {
    return std::async(std::launch::async, [argv] { return testing::run_process(argv, testing::with_limit(std::chrono::seconds(90))); });
  }
  ioplane::EndpointCounters counters(const std::string& port) const {
    auto c = plane_->channel_counters(port);
    return c ? *c : ioplane::EndpointCounters{};
  }

  testing::TempDir dir_;
  std::unique_ptr<ioplane::IoPlane> plane_;
};

TEST_F(ChannelTest, EchoAcrossPartitionsAlongADeclaredChannel) {
  TILEHV_REQUIRE_KVM();
  start_plane({{"client.vsock", "server.vsock", 5000}});
  auto server = launch(partition("server.vsock", "role=server port=5000"));
  auto client = launch(partition("client.vsock", "role=client cid=3 port=5000 count=100 size=256"));
  const auto c = client.get();
  const auto s = server.get();
  ASSERT_TRUE(c.exited && c.status == 0) << c.describe() << s.describe();
  ASSERT_TRUE(s.exited && s.status == 0) << s.describe();
  EXPECT_NE(c.out.find("channel-echo: 100 round trips, 256 B, 0 mismatches"), std::string::npos) << c.describe();
  EXPECT_NE(s.out.find("channel-echo: served 1 connections, 25600 bytes"), std::string::npos) << s.describe();
  const auto client_counters = counters("client.vsock");
  EXPECT_EQ(client_counters.refused, 0U);
  EXPECT_EQ(client_counters.spoofed, 0U);
  EXPECT_EQ(client_counters.malformed, 0U);
  EXPECT_EQ(client_counters.packets_in, counters("server.vsock").packets_out);
}

TEST_F(ChannelTest, LargeMessagesAreSplitAndFlowControlled) {
  TILEHV_REQUIRE_KVM();
  start_plane({{"client.vsock", "server.vsock", 5000}});
  auto server = launch(partition("server.vsock", "role=server port=5000"));
  auto client = launch(partition("client.vsock", "role=client cid=3 port=5000 count=4 size=65536"));
  const auto c = client.get();
  const auto s = server.get();
  ASSERT_TRUE(c.exited && c.status == 0) << c.describe() << s.describe();
  EXPECT_NE(c.out.find("channel-echo: 4 round trips, 65536 B, 0 mismatches"), std::string::npos) << c.describe();
}

TEST_F(ChannelTest, UndeclaredPairIsRefusedAndCounted) {
  TILEHV_REQUIRE_KVM();
  // The stranger may not reach the server; the declared client is not running at all.
  start_plane({{"client.vsock", "server.vsock", 5000}});
  auto server = launch(partition("server.vsock", "role=server port=5000 wait_ms=3000"));
  const auto stranger = testing::run_process(partition("stranger.vsock", "role=client cid=3 port=5000 count=1 wait_ms=1000"),
                                             testing::with_limit(std::chrono::seconds(60)));
  server.get();
  ASSERT_TRUE(stranger.exited) << stranger.describe();
  EXPECT_EQ(stranger.status, 3) << stranger.describe();
  EXPECT_NE(stranger.out.find("channel-echo: connection to 3:5000 refused"), std::string::npos) << stranger.describe();
  EXPECT_GT(counters("stranger.vsock").refused, 0U);
  EXPECT_EQ(counters("server.vsock").packets_out, 0U) << "nothing of the stranger's reached the server";
}

TEST_F(ChannelTest, UndeclaredPortOfADeclaredPeerIsRefused) {
  TILEHV_REQUIRE_KVM();
  start_plane({{"client.vsock", "server.vsock", 5000}});
  auto server = launch(partition("server.vsock", "role=server port=5001 wait_ms=3000"));
  const auto client = testing::run_process(partition("client.vsock", "role=client cid=3 port=5001 count=1 wait_ms=1000"),
                                           testing::with_limit(std::chrono::seconds(60)));
  server.get();
  EXPECT_EQ(client.status, 3) << client.describe();
  EXPECT_GT(counters("client.vsock").refused, 0U);
}

}  // namespace
}  // namespace tilehv
