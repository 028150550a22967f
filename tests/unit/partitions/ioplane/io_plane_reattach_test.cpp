// Tests for handing ports back to a restarted I/O plane: frames queued while no plane ran reach
// their destination exactly once through the new plane, and a VMM that hands back what it was not
// given, what another holds, or descriptors the plane could block on is refused while the plane
// keeps serving.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "ioplane/io_plane.hpp"
#include "port/fd_passing.hpp"
#include "port/plane_client.hpp"

namespace tilehv::ioplane {
namespace {

using namespace std::chrono_literals;
using vdevices::port::PlaneClient;
using vdevices::port::PortEndpoint;
using vdevices::port::PortSide;

const MacAddress kMacA{{0x02, 0x74, 0x68, 0x00, 0x00, 0x0a}};
const MacAddress kMacB{{0x02, 0x74, 0x68, 0x00, 0x00, 0x0b}};

PlaneConfig two_ports() {
  PlaneConfig config;
  config.net_ports = {{"a", kMacA, 1500, {}}, {"b", kMacB, 1500, {}}};
  return config;
}

std::vector<std::uint8_t> frame(const MacAddress& from, const MacAddress& to, std::uint8_t tag) {
  std::vector<std::uint8_t> f(64, tag);
  std::copy(to.bytes.begin(), to.bytes.end(), f.begin());
  std::copy(from.bytes.begin(), from.bytes.end(), f.begin() + 6);
  f[12] = 0x08;
  f[13] = 0x00;
  return f;
}

// A VMM's side of one port: the client that holds it and the device's endpoint.
struct Vmm {
  std::unique_ptr<PlaneClient> client;
  std::optional<PortEndpoint> device;
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

// Every frame that arrives at `device` within `wait`.
std::vector<std::vector<std::uint8_t>> drain(PortEndpoint& device, std::chrono::milliseconds wait) {
  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<std::uint8_t> out(device.max_message());
  const auto end = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < end) {
    auto got = device.receive(out);
    if (got && got->has_value()) {
      frames.emplace_back(out.begin(), out.begin() + **got);
    } else {
      std::this_thread::sleep_for(1ms);
    }
  }
  return frames;
}

TEST(IoPlaneReattachTest, FramesQueuedWhileNoPlaneRanArriveExactlyOnceThroughTheNextPlane) {
  auto first = IoPlane::create(two_ports());
  ASSERT_TRUE(first);
  Vmm a = connect(**first, "a");
  Vmm b = connect(**first, "b");
  ASSERT_EQ(*a.device->send(frame(kMacA, kMacB, 1)), vdevices::port::PushResult::kPushed);
  ASSERT_EQ(drain(*b.device, 200ms).size(), 1U);

  first->reset();  // the daemon dies with its plane; the VMMs keep their rings
  for (std::uint8_t tag = 2; tag < 12; ++tag) {
    ASSERT_EQ(*a.device->send(frame(kMacA, kMacB, tag)), vdevices::port::PushResult::kPushed);
  }

  auto second = IoPlane::create(two_ports());
  ASSERT_TRUE(second);
  (*second)->hold_traffic();  // until both ports are back: a's frames have nowhere to go before
  for (Vmm* vmm : {&a, &b}) {
    const std::string port = vmm == &a ? "a" : "b";
    auto link = (*second)->open_link({"net:" + port});
    ASSERT_TRUE(link);
    const auto result = vmm->client->relink(std::move(*link), 2s);
    ASSERT_EQ(result.reattached, std::vector<std::string>{"net:" + port});
    EXPECT_TRUE(result.refused.empty()) << result.refused.front().second;
  }
  EXPECT_TRUE(drain(*b.device, 50ms).empty()) << "a held plane serves no port";
  (*second)->release_traffic();
  const auto arrived = drain(*b.device, 300ms);
  ASSERT_EQ(arrived.size(), 10U);
  for (std::size_t i = 0; i < arrived.size(); ++i) EXPECT_EQ(arrived[i][20], i + 2);
  EXPECT_EQ((*second)->counters("b")->tx_frames, 10U);
  EXPECT_EQ((*second)->metrics().ports_reattached.load(), 2U);

  // And the other way, live.
  ASSERT_EQ(*b.device->send(frame(kMacB, kMacA, 42)), vdevices::port::PushResult::kPushed);
  const auto back = drain(*a.device, 200ms);
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(back[0][20], 42);
}

TEST(IoPlaneReattachTest, PortsNotGrantedOrAlreadyHeldAreRefused) {
  auto first = IoPlane::create(two_ports());
  ASSERT_TRUE(first);
  Vmm a = connect(**first, "a");
  // Handed to a link whose partition was not given the port.
  auto wrong = (*first)->open_link({"net:b"});
  ASSERT_TRUE(wrong);
  auto result = a.client->relink(std::move(*wrong), 2s);
  ASSERT_EQ(result.refused.size(), 1U);
  EXPECT_NE(result.refused[0].second.find("policy does not give it this port"), std::string::npos) << result.refused[0].second;
  // Handed to the plane that holds it already: refused, and the VMM keeps its working link.
  auto same = (*first)->open_link({"net:a"});
  ASSERT_TRUE(same);
  result = a.client->relink(std::move(*same), 2s);
  ASSERT_EQ(result.refused.size(), 1U);
  EXPECT_NE(result.refused[0].second.find("already held"), std::string::npos) << result.refused[0].second;
  Vmm b = connect(**first, "b");
  ASSERT_EQ(*a.device->send(frame(kMacA, kMacB, 7)), vdevices::port::PushResult::kPushed);
  EXPECT_EQ(drain(*b.device, 200ms).size(), 1U);
  EXPECT_EQ((*first)->metrics().requests_refused.load(), 2U);
}

// A hostile VMM hands back descriptors of its own making.
class HostileReattachTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto plane = IoPlane::create(two_ports());
    ASSERT_TRUE(plane);
    plane_ = std::move(*plane);
    auto created = PortEndpoint::create(vdevices::port::PortConfig{});
    ASSERT_TRUE(created);
    device_ = std::move(created->device);
    auto link = plane_->open_link({"net:a"});
    ASSERT_TRUE(link);
    link_ = std::move(*link);
  }
  // Sends a reattach for net:a with these descriptors; returns the plane's answer.
  std::string reattach(std::vector<int> fds) {
    const std::string ask = "tilehv-reattach 1 net a";
    EXPECT_TRUE(vdevices::port::send_message(link_.get(), {reinterpret_cast<const std::uint8_t*>(ask.data()), ask.size()}, fds));
    auto reply = vdevices::port::receive_message(link_.get(), vdevices::port::kMaxLinkMessage);
    EXPECT_TRUE(reply);
    return reply ? std::string(reply->bytes.begin(), reply->bytes.end()) : "";
  }

  std::unique_ptr<IoPlane> plane_;
  vdevices::port::PortFds device_;
  util::UniqueFd link_;
};

TEST_F(HostileReattachTest, TooFewDescriptors) {
  EXPECT_NE(reattach({device_.memory.get(), device_.own_wake.get()}).find("refused net a a port is handed back with 3"),
            std::string::npos);
}

TEST_F(HostileReattachTest, ABlockingEventfdTheVmmCouldFreezeThePlaneWith) {
  util::UniqueFd blocking(::eventfd(0, EFD_CLOEXEC));
  EXPECT_NE(reattach({device_.memory.get(), device_.own_wake.get(), blocking.get()}).find("is not non-blocking"),
            std::string::npos);
}

TEST_F(HostileReattachTest, APipeInsteadOfAnEventfd) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK), 0);
  util::UniqueFd r(pipe_fds[0]), w(pipe_fds[1]);
  EXPECT_NE(reattach({device_.memory.get(), w.get(), device_.peer_wake.get()}).find("is not an eventfd"), std::string::npos);
}

TEST_F(HostileReattachTest, MemoryOfAnotherGeometry) {
  auto other = PortEndpoint::create(vdevices::port::PortConfig{65536, 1024});
  ASSERT_TRUE(other);
  EXPECT_NE(reattach({other->device.memory.get(), device_.own_wake.get(), device_.peer_wake.get()}).find("is not the one granted"),
            std::string::npos);
}

TEST_F(HostileReattachTest, UnsealedMemory) {
  util::UniqueFd memory(::memfd_create("fake", MFD_CLOEXEC));
  ASSERT_EQ(::ftruncate(memory.get(), 8192 + 2 * 262144), 0);
  EXPECT_NE(reattach({memory.get(), device_.own_wake.get(), device_.peer_wake.get()}).find("refused net a"), std::string::npos);
}

TEST_F(HostileReattachTest, ThePlaneServesOnAfterEveryRefusal) {
  (void)reattach({device_.memory.get()});
  (void)reattach({device_.memory.get(), device_.memory.get(), device_.memory.get()});
  EXPECT_EQ(reattach({device_.memory.get(), device_.own_wake.get(), device_.peer_wake.get()}), "reattached net a");
  EXPECT_EQ(plane_->metrics().requests_refused.load(), 2U);
}

}  // namespace
}  // namespace tilehv::ioplane
