// Integration tests: the SDK's virtio-net driver and network stack against QEMU's virtio-net device,
// the reference implementation. Two microvm guests are joined by QEMU's socket netdev (one listens on
// a loopback port, the other connects) and run the udp-pingpong and udp-flood examples; the listener
// starts first, so its kernel also has to wait for a peer that boots later. The drivers wait for
// their devices in hlt; virtio-irq shows those waits end by the device's interrupt, on the boot CPU
// and on an application processor.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"

namespace tilehv {
namespace {

constexpr const char* kQemu = "/usr/bin/qemu-system-x86_64";
constexpr auto kGuestLimit = std::chrono::seconds(240);

// A TCP port on 127.0.0.1 that was free a moment ago; a race with another process is caught by
// run_pair(), which retries with a new port.
int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

// Whether something listens on 127.0.0.1:port, from /proc/net/tcp (state 0A is LISTEN). Asking
// there rather than connecting matters: QEMU's socket netdev would take a probe for its peer.
bool listening(int port) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  char wanted[32];
  std::snprintf(wanted, sizeof wanted, "0100007F:%04X", port);
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (local == wanted && state == "0A") return true;
  }
  return false;
}

std::vector<std::string> qemu_argv(const std::string& kernel, const std::string& cmdline, const std::string& netdev,
                                   const std::string& mac) {
  return {kQemu, "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=off,acpi=off", "-enable-kvm", "-cpu",
          "host,-arch-capabilities", "-m", "64M", "-smp", "1", "-nodefaults", "-no-user-config", "-nographic",
          "-serial", "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-global",
          "virtio-mmio.force-legacy=false", "-netdev", netdev, "-device", "virtio-net-device,netdev=n0,mac=" + mac,
          "-kernel", testing::guest_kernel(kernel), "-append", cmdline};
}

struct Pair {
  testing::ProcessResult listener;
  testing::ProcessResult connector;
};

// Boots the listening guest, waits until its netdev listens, then boots the connecting one.
Pair run_pair(const std::string& kernel, const std::string& listener_cmdline, const std::string& connector_cmdline) {
  Pair pair;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int port = unused_port();
    const std::string at = "127.0.0.1:" + std::to_string(port);
    auto listener = std::async(std::launch::async, [&] {
      return testing::run_process(qemu_argv(kernel, listener_cmdline, "socket,id=n0,listen=" + at, "52:54:00:00:00:01"),
                                  testing::with_limit(kGuestLimit));
    });
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    bool up = false;
    while (!up && std::chrono::steady_clock::now() < give_up &&
           listener.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
      up = listening(port);
    }
    if (!up) {
      pair.listener = listener.get();  // it ended (the port was taken?) or never listened
      if (pair.listener.err.find("in use") != std::string::npos) continue;
      return pair;
    }
    pair.connector = testing::run_process(
        qemu_argv(kernel, connector_cmdline, "socket,id=n0,connect=" + at, "52:54:00:00:00:02"),
        testing::with_limit(kGuestLimit));
    pair.listener = listener.get();
    return pair;
  }
  return pair;
}

// The guest's line that starts with prefix, without QEMU's terminal noise around it.
std::string line_with(const testing::ProcessResult& r, const std::string& prefix) {
  for (const std::string& line : r.out_lines()) {
    const std::size_t at = line.find(prefix);
    if (at == std::string::npos) continue;
    std::string found = line.substr(at);
    while (!found.empty() && (found.back() == '\r' || found.back() == '\n')) found.pop_back();
    return found;
  }
  return {};
}

constexpr int kQemuSuccess = 1;  // exit value 0: (0 << 1) | 1

class QemuNet : public ::testing::Test {
 protected:
  void SetUp() override {
    TILEHV_REQUIRE_KVM();
    if (::access(kQemu, X_OK) != 0) GTEST_SKIP() << kQemu << " is not installed (scripts/test.sh installs it)";
  }
};

TEST_F(QemuNet, DeviceInterruptsWakeTheWaitingCpu) {
  const auto r = testing::run_process(
      {kQemu, "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=off,acpi=off", "-enable-kvm", "-cpu",
       "host,-arch-capabilities", "-m", "64M", "-smp", "2", "-nodefaults", "-no-user-config", "-nographic", "-serial",
       "stdio", "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-global",
       "virtio-mmio.force-legacy=false", "-device", "virtio-rng-device", "-kernel", testing::guest_kernel("virtio-irq"),
       "-append", "requests=32"},
      testing::with_limit(std::chrono::seconds(60)));
  ASSERT_EQ(r.status, kQemuSuccess) << r.describe();
  const std::regex per_cpu(R"(virtio-irq: cpu (\d+): 32 requests, (\d+) interrupts)");
  int cpus = 0;
  for (const std::string& line : r.out_lines()) {
    std::smatch m;
    if (!std::regex_search(line, m, per_cpu)) continue;
    ++cpus;
    EXPECT_GE(std::stoi(m[2]), 32) << line;
  }
  EXPECT_EQ(cpus, 2) << r.describe();
  EXPECT_EQ(line_with(r, "virtio-irq: ok"), "virtio-irq: ok") << r.describe();
}

TEST_F(QemuNet, PingPongEchoesEveryRound) {
  const Pair p = run_pair("udp-pingpong", "role=ping ip=10.0.0.1 peer=10.0.0.2 count=200 size=64",
                          "role=pong ip=10.0.0.2 peer=10.0.0.1 count=200");
  ASSERT_EQ(p.listener.status, kQemuSuccess) << p.listener.describe() << p.connector.describe();
  ASSERT_EQ(p.connector.status, kQemuSuccess) << p.connector.describe();
  const std::regex summary(R"(udp-pingpong: 200 rounds, 64 B, 0 mismatches, rtt p50 \d+ us p99 \d+ us)");
  EXPECT_TRUE(std::regex_match(line_with(p.listener, "udp-pingpong: "), summary)) << p.listener.describe();
  EXPECT_EQ(line_with(p.connector, "udp-pingpong: "), "udp-pingpong: echoed 200") << p.connector.describe();
}

// Full-size datagrams (1500-byte IP packets), and the other start order: pong boots first.
TEST_F(QemuNet, PingPongCarriesFullSizeDatagrams) {
  const Pair p = run_pair("udp-pingpong", "role=pong ip=10.0.0.2 peer=10.0.0.1 count=50",
                          "role=ping ip=10.0.0.1 peer=10.0.0.2 count=50 size=1472");
  ASSERT_EQ(p.listener.status, kQemuSuccess) << p.listener.describe() << p.connector.describe();
  ASSERT_EQ(p.connector.status, kQemuSuccess) << p.connector.describe();
  const std::regex summary(R"(udp-pingpong: 50 rounds, 1472 B, 0 mismatches, rtt p50 \d+ us p99 \d+ us)");
  EXPECT_TRUE(std::regex_match(line_with(p.connector, "udp-pingpong: "), summary)) << p.connector.describe();
  EXPECT_EQ(line_with(p.listener, "udp-pingpong: "), "udp-pingpong: echoed 50") << p.listener.describe();
}

TEST_F(QemuNet, FloodArrivesCompleteAndInOrder) {
  const Pair p = run_pair("udp-flood", "role=send ip=10.0.0.1 peer=10.0.0.2 count=1000 size=1024",
                          "role=recv ip=10.0.0.2 peer=10.0.0.1 count=1000 size=1024");
  ASSERT_EQ(p.listener.status, kQemuSuccess) << p.listener.describe() << p.connector.describe();
  ASSERT_EQ(p.connector.status, kQemuSuccess) << p.connector.describe();
  EXPECT_EQ(line_with(p.listener, "udp-flood: "), "udp-flood: sent 1000") << p.listener.describe();
  const std::regex summary(
      R"(udp-flood: received 1000 of 1000, bytes 1024000, in \d+ us, 0 out of order, 0 duplicates, 0 corrupt)");
  EXPECT_TRUE(std::regex_match(line_with(p.connector, "udp-flood: "), summary)) << p.connector.describe();
}

// Two-entry queues: the sender keeps finding its transmit queue full and must halt until completions
// come back, and the receiver's device keeps running out of buffers and must be notified of new ones.
TEST_F(QemuNet, FloodSurvivesTwoEntryQueues) {
  const Pair p = run_pair("udp-flood", "role=send ip=10.0.0.1 peer=10.0.0.2 count=2000 size=64 queue=2",
                          "role=recv ip=10.0.0.2 peer=10.0.0.1 count=2000 size=64 queue=2");
  ASSERT_EQ(p.listener.status, kQemuSuccess) << p.listener.describe() << p.connector.describe();
  ASSERT_EQ(p.connector.status, kQemuSuccess) << p.connector.describe();
  EXPECT_EQ(line_with(p.listener, "udp-flood: "), "udp-flood: sent 2000") << p.listener.describe();
  const std::regex summary(
      R"(udp-flood: received 2000 of 2000, bytes 128000, in \d+ us, 0 out of order, 0 duplicates, 0 corrupt)");
  EXPECT_TRUE(std::regex_match(line_with(p.connector, "udp-flood: "), summary)) << p.connector.describe();
}

}  // namespace
}  // namespace tilehv
