// Tests for the plane link: a port granted with its descriptors and attributes over a real socket
// pair, refusals, and malformed requests.
#include "port/plane_link.hpp"

#include <sys/socket.h>

#include <thread>

#include <gtest/gtest.h>

#include "port/fd_passing.hpp"

namespace tilehv::vdevices::port {
namespace {

struct SocketPair {
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    vmm.reset(fds[0]);
    plane.reset(fds[1]);
  }
  util::UniqueFd vmm, plane;
};

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(PlaneLinkTest, GrantCarriesAWorkingPortAndItsAttributes) {
  SocketPair link;
  std::thread plane([&] {
    auto message = receive_message(link.plane.get(), kMaxLinkMessage);
    ASSERT_TRUE(message);
    auto request = parse_port_request(message->bytes);
    ASSERT_TRUE(request) << request.error();
    EXPECT_EQ(request->kind, "net");
    EXPECT_EQ(request->name, "a.eth0");
    auto created = PortEndpoint::create(PortConfig{});
    ASSERT_TRUE(created);
    ASSERT_TRUE(grant_port(link.plane.get(), *request, created->device, {{"mac", "02:00:00:00:00:01"}, {"mtu", "1500"}}));
    ASSERT_EQ(*created->plane.send(bytes_of("hello")), PushResult::kPushed);
  });
  auto grant = request_port(link.vmm.get(), {"net", "a.eth0"}, std::chrono::seconds(5));
  plane.join();
  ASSERT_TRUE(grant) << grant.error();
  EXPECT_EQ(grant->attributes["mac"], "02:00:00:00:00:01");
  EXPECT_EQ(grant->attributes["mtu"], "1500");
  auto endpoint = PortEndpoint::attach(std::move(grant->fds), PortSide::kDevice);
  ASSERT_TRUE(endpoint) << endpoint.error();
  std::vector<std::uint8_t> out(endpoint->max_message());
  auto got = endpoint->receive(out);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(std::string(out.begin(), out.begin() + **got), "hello");
}

TEST(PlaneLinkTest, RefusalReachesTheVmmWithItsReason) {
  SocketPair link;
  std::thread plane([&] {
    auto message = receive_message(link.plane.get(), kMaxLinkMessage);
    ASSERT_TRUE(message);
    auto request = parse_port_request(message->bytes);
    ASSERT_TRUE(request);
    ASSERT_TRUE(refuse_port(link.plane.get(), *request, "no such port"));
  });
  auto grant = request_port(link.vmm.get(), {"net", "nope"}, std::chrono::seconds(5));
  plane.join();
  ASSERT_FALSE(grant);
  EXPECT_NE(grant.error().find("refused net port nope: no such port"), std::string::npos) << grant.error();
}

TEST(PlaneLinkTest, SilentPlaneTimesOut) {
  SocketPair link;
  auto grant = request_port(link.vmm.get(), {"net", "eth0"}, std::chrono::milliseconds(50));
  ASSERT_FALSE(grant);
  EXPECT_NE(grant.error().find("did not answer"), std::string::npos);
}

TEST(PlaneLinkTest, MalformedRequestsAreRefused) {
  for (const char* bad : {"", "hello", "tilehv-port 2 net eth0", "tilehv-port 1 net", "tilehv-port 1 net eth0 extra",
                          "tilehv-port 1 net eth/0", "tilehv-port 1 net ../../etc"}) {
    EXPECT_FALSE(parse_port_request(bytes_of(bad))) << bad;
  }
  EXPECT_FALSE(parse_port_request(bytes_of("tilehv-port 1 net " + std::string(65, 'a'))));
}

TEST(PlaneLinkTest, GrantWithoutDescriptorsIsRejected) {
  SocketPair link;
  ASSERT_TRUE(send_message(link.plane.get(), bytes_of("granted net eth0 mac=02:00:00:00:00:01")));
  auto grant = request_port(link.vmm.get(), {"net", "eth0"}, std::chrono::seconds(1));
  ASSERT_FALSE(grant);
  EXPECT_NE(grant.error().find("0 descriptors"), std::string::npos) << grant.error();
}

}  // namespace
}  // namespace tilehv::vdevices::port
