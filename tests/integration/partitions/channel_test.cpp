// Integration tests for channels: real tilehv processes with virtio-vsock devices on channel ports of
// an I/O plane hosted by the test process, running the SDK's channel-echo kernel.
#include <future>
#include <thread>

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

// Runs `step` against the plane's host channel every few milliseconds until `done` holds or the
// deadline passes.
template <typename Step, typename Done>
void drive_host(ioplane::IoPlane& plane, Step step, Done done, std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    plane.with_host_channel(step);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

TEST_F(ChannelTest, PartitionReachesTheHostAlongADeclaredChannel) {
  TILEHV_REQUIRE_KVM();
  start_plane({{"client.vsock", ioplane::ChannelRouter::kHostName, 9000}});
  plane_->with_host_channel([](ioplane::HostChannel& host) { ASSERT_TRUE(host.listen(9000)); });
  auto client = launch(partition("client.vsock", "role=client cid=2 port=9000 count=50 size=128"));
  std::vector<ioplane::ConnectionId> connections;
  std::uint64_t echoed = 0;
  drive_host(
      *plane_,
      [&](ioplane::HostChannel& host) {
        while (auto id = host.accept()) connections.push_back(*id);
        for (const auto& id : connections) {
          std::uint8_t buffer[4096];
          auto n = host.read(id, buffer);
          if (n && *n > 0) {
            auto sent = host.send(id, std::span<const std::uint8_t>(buffer, *n));
            if (sent) echoed += *sent;
          }
        }
      },
      [&] { return client.wait_for(std::chrono::seconds(0)) == std::future_status::ready; });
  const auto c = client.get();
  ASSERT_TRUE(c.exited && c.status == 0) << c.describe();
  EXPECT_NE(c.out.find("channel-echo: 50 round trips, 128 B, 0 mismatches"), std::string::npos) << c.describe();
  EXPECT_EQ(echoed, 50U * 128U);
}

TEST_F(ChannelTest, HostReachesAPartitionAndUndeclaredHostPortsAreRefused) {
  TILEHV_REQUIRE_KVM();
  start_plane({{ioplane::ChannelRouter::kHostName, "server.vsock", 5000}});
  auto server = launch(partition("server.vsock", "role=server port=5000 wait_ms=20000"));
  std::optional<ioplane::ConnectionId> connection;
  std::optional<ioplane::ConnectionId> undeclared;
  std::string received;
  const std::string message = "hello from the tile";
  bool sent = false;
  drive_host(
      *plane_,
      [&](ioplane::HostChannel& host) {
        if (!undeclared) {
          auto other = host.connect(3, 5001);
          if (other) undeclared = *other;
        }
        if (!connection) {
          auto id = host.connect(3, 5000);
          if (id) connection = *id;
          return;
        }
        // Refused or timed out: the partition is not listening yet. Give the slot back and try again.
        const auto state = host.state(*connection);
        if (state != ioplane::ConnectionState::kConnecting && state != ioplane::ConnectionState::kConnected) {
          (void)host.close(*connection);
          connection.reset();
          return;
        }
        if (!connection || host.state(*connection) != ioplane::ConnectionState::kConnected) return;
        if (!sent) {
          sent = host.send(*connection, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(message.data()), message.size())).has_value();
        }
        std::uint8_t buffer[256];
        auto n = host.read(*connection, buffer);
        if (n) received.append(reinterpret_cast<const char*>(buffer), *n);
        if (received.size() == message.size()) (void)host.close(*connection);
      },
      [&] { return received.size() >= message.size(); });
  EXPECT_EQ(received, message);
  plane_->with_host_channel([&](ioplane::HostChannel& host) {
    ASSERT_TRUE(undeclared.has_value());
    EXPECT_NE(host.state(*undeclared), ioplane::ConnectionState::kConnected) << "5001 is not a declared port";
  });
  const auto s = server.get();
  EXPECT_NE(s.out.find("channel-echo: served 1 connections"), std::string::npos) << s.describe();
}

}  // namespace
}  // namespace tilehv
