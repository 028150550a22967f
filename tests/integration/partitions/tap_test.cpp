// Integration test for the TAP backend: an SDK kernel's UDP ping-pong with the host's own network
// stack (ARP answered by Linux, datagrams echoed by a socket in this process) through a real TAP.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"
#include "util/unique_fd.hpp"

namespace tilehv {
namespace {

// A name of this process's own: tests run in parallel, and another test's set-up must not delete the
// interface this one uses.
const std::string kTap = "tilehvt" + std::to_string(::getpid() % 100000);

bool run(const std::string& command) { return std::system(command.c_str()) == 0; }

class TapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || ::access("/dev/net/tun", R_OK | W_OK) != 0) {
      GTEST_SKIP() << "creating a TAP interface needs root and /dev/net/tun";
    }
    run("ip link del " + kTap + " 2>/dev/null");
    ASSERT_TRUE(run("ip tuntap add dev " + kTap + " mode tap"));
    ASSERT_TRUE(run("ip addr add 10.231.0.1/24 dev " + kTap));
    ASSERT_TRUE(run("ip link set " + kTap + " up"));
  }
  void TearDown() override { run("ip link del " + kTap + " 2>/dev/null"); }
};

TEST_F(TapTest, GuestTalksUdpWithTheHostStack) {
  TILEHV_REQUIRE_KVM();
  util::UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sock);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(7777);
  ASSERT_EQ(::inet_pton(AF_INET, "10.231.0.1", &address.sin_addr), 1);
  ASSERT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  std::atomic<bool> stop{false};
  std::atomic<int> echoed{0};
  std::thread echo([&] {
    char buffer[2048];
    while (!stop) {
      pollfd p{sock.get(), POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      sockaddr_in from{};
      socklen_t length = sizeof from;
      const ssize_t n = ::recvfrom(sock.get(), buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
      if (n <= 0) continue;
      ::sendto(sock.get(), buffer, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), length);
      ++echoed;
    }
  });
  const auto r = testing::run_process({TILEHV_BINARY, "run", "--kernel", testing::guest_kernel("udp-pingpong"), "--net",
                                       std::string("tap:") + kTap + ",mac=02:74:68:aa:00:01", "--cmdline",
                                       "role=ping ip=10.231.0.2 peer=10.231.0.1 count=100 size=200", "--timeout", "60"},
                                      testing::with_limit(std::chrono::seconds(90)));
  stop = true;
  echo.join();
  ASSERT_TRUE(r.exited && r.status == 0) << r.describe();
  EXPECT_NE(r.out.find("udp-pingpong: 100 rounds, 200 B, 0 mismatches"), std::string::npos) << r.describe();
  EXPECT_EQ(echoed.load(), 100);
}

TEST(TapOptions, BadTapOptionsAreUsageErrors) {
  const auto r = testing::run_process({TILEHV_BINARY, "run", "--kernel", testing::guest_kernel("udp-pingpong"), "--net",
                                       std::string("tap:") + kTap + ",mac=01:00:00:00:00:01"});
  ASSERT_TRUE(r.exited) << r.describe();
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("not a unicast MAC address"), std::string::npos) << r.describe();
}

}  // namespace
}  // namespace tilehv
