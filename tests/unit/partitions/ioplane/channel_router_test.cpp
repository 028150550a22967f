// Tests for ChannelRouter: packets only along declared channels, resets for refusals, spoofed and
// malformed packets dropped, counters.
#include "ioplane/channel_router.hpp"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace tilehv::ioplane {
namespace {

namespace vsock = vdevices::vsock;

std::vector<std::uint8_t> packet(std::uint64_t src, std::uint32_t sport, std::uint64_t dst, std::uint32_t dport,
                                 vsock::Op op = vsock::Op::kRequest, std::uint32_t payload = 0) {
  vsock::PacketHeader h{};
  h.src_cid = src, h.dst_cid = dst, h.src_port = sport, h.dst_port = dport;
  h.type = vsock::kTypeStream;
  h.op = static_cast<std::uint16_t>(op);
  h.len = payload;
  std::vector<std::uint8_t> p(sizeof h + payload, 0xab);
  std::memcpy(p.data(), &h, sizeof h);
  return p;
}

class ChannelRouterTest : public ::testing::Test {
 protected:
  ChannelRouterTest() : router_({{"client", "server", 5000}}) {
    client_ = *router_.add_endpoint("client", 3);
    server_ = *router_.add_endpoint("server", 4);
    other_ = *router_.add_endpoint("other", 5);
  }
  ChannelRouter router_;
  EndpointId client_{}, server_{}, other_{};
};

TEST_F(ChannelRouterTest, DeclaredChannelCarriesBothDirections) {
  auto d = router_.route(client_, packet(3, 40000, 4, 5000));
  EXPECT_EQ(d.kind, RouteDecision::Kind::kDeliver);
  EXPECT_EQ(d.to, server_);
  d = router_.route(server_, packet(4, 5000, 3, 40000, vsock::Op::kResponse));
  EXPECT_EQ(d.kind, RouteDecision::Kind::kDeliver);
  EXPECT_EQ(d.to, client_);
  d = router_.route(client_, packet(3, 40000, 4, 5000, vsock::Op::kRw, 100));
  EXPECT_EQ(d.kind, RouteDecision::Kind::kDeliver);
}

TEST_F(ChannelRouterTest, UndeclaredPairsAreRefusedWithAReset) {
  EXPECT_EQ(router_.route(client_, packet(3, 40000, 4, 5001)).kind, RouteDecision::Kind::kReset);  // other port
  EXPECT_EQ(router_.route(other_, packet(5, 40000, 4, 5000)).kind, RouteDecision::Kind::kReset);   // not the client
  EXPECT_EQ(router_.route(server_, packet(4, 6000, 3, 40000)).kind, RouteDecision::Kind::kReset);  // server as client
  EXPECT_EQ(router_.counters(client_)->refused, 1U);
  EXPECT_EQ(router_.counters(other_)->refused, 1U);
  // A reset is never answered with a reset.
  EXPECT_EQ(router_.route(other_, packet(5, 1, 4, 5000, vsock::Op::kRst)).kind, RouteDecision::Kind::kDrop);
}

TEST_F(ChannelRouterTest, UnknownDestinationIsAReset) {
  EXPECT_EQ(router_.route(client_, packet(3, 1, 99, 5000)).kind, RouteDecision::Kind::kReset);
  EXPECT_EQ(router_.counters(client_)->no_destination, 1U);
}

TEST_F(ChannelRouterTest, SpoofedAndMalformedPacketsAreDropped) {
  EXPECT_EQ(router_.route(other_, packet(3, 40000, 4, 5000)).kind, RouteDecision::Kind::kDrop);  // other claims CID 3
  EXPECT_EQ(router_.counters(other_)->spoofed, 1U);
  auto p = packet(3, 40000, 4, 5000, vsock::Op::kRw, 10);
  p.pop_back();  // header length no longer matches
  EXPECT_EQ(router_.route(client_, p).kind, RouteDecision::Kind::kDrop);
  EXPECT_EQ(router_.route(client_, std::vector<std::uint8_t>(10)).kind, RouteDecision::Kind::kDrop);
  EXPECT_EQ(router_.route(client_, packet(3, 1, 4, 5000, static_cast<vsock::Op>(9))).kind, RouteDecision::Kind::kDrop);
  EXPECT_EQ(router_.counters(client_)->malformed, 3U);
}

TEST_F(ChannelRouterTest, ReservedAndDuplicateCidsAreRefused) {
  EXPECT_FALSE(router_.add_endpoint("host", 2));
  EXPECT_FALSE(router_.add_endpoint("dup", 3));
  EXPECT_FALSE(router_.add_endpoint("client", 9));
}

}  // namespace
}  // namespace tilehv::ioplane
