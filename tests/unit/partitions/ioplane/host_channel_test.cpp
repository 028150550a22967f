// Tests for HostChannel's connections: two channels against each other (connect and accept both ways,
// data, a 1 MiB transfer under flow control, shutdown, resets, refusals, timeouts, bounded floods).
#include "ioplane/host_channel.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "unit/partitions/ioplane/host_channel_peers.hpp"

namespace tilehv::ioplane {
namespace {

using namespace testing;
namespace vsock = vdevices::vsock;

TEST(HostChannelTest, ConnectAndAcceptBothDirections) {
  Wire w = wire();
  auto [a_end, b_end] = w.connect_b_to_a(100);
  EXPECT_EQ(w.a.state(a_end), ConnectionState::kConnected);
  EXPECT_EQ(w.b.state(b_end), ConnectionState::kConnected);
  EXPECT_NE(events_of(w.b, b_end) & kEventConnected, 0U);
  EXPECT_EQ(w.a.info(a_end)->local_port, 100U);
  EXPECT_EQ(w.a.info(a_end)->peer_cid, kPeerCid);
  EXPECT_EQ(w.a.info(a_end)->peer_port, w.b.info(b_end)->local_port);
  // The other way round.
  ASSERT_TRUE(w.b.listen(200).has_value());
  auto a_client = w.a.connect(kPeerCid, 200);
  ASSERT_TRUE(a_client.has_value());
  EXPECT_EQ(w.a.state(*a_client), ConnectionState::kConnecting);
  w.pump();
  EXPECT_EQ(w.a.state(*a_client), ConnectionState::kConnected);
  auto events = w.b.take_events();
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].flags, kEventIncoming);
  EXPECT_EQ(w.b.accept(), events[0].id);
  EXPECT_FALSE(w.b.accept().has_value());
  EXPECT_EQ(w.a.counters().connections_established, 1U);
  EXPECT_EQ(w.a.counters().connections_accepted, 1U);
}

TEST(HostChannelTest, DataBothWaysExactBytes) {
  Wire w = wire();
  auto [a_end, b_end] = w.connect_b_to_a(100);
  const Bytes to_a = pattern(10000, 1), to_b = pattern(3333, 2);
  EXPECT_EQ(*w.b.send(b_end, to_a), to_a.size());
  EXPECT_EQ(*w.a.send(a_end, to_b), to_b.size());
  w.pump();
  EXPECT_NE(events_of(w.a, a_end) & kEventReadable, 0U);
  EXPECT_EQ(read_all(w.a, a_end), to_a);
  EXPECT_EQ(read_all(w.b, b_end), to_b);
  EXPECT_EQ(*w.a.read(a_end, std::span<std::uint8_t>()), 0U);
  EXPECT_EQ(w.a.counters().bytes_in, to_a.size());
  EXPECT_EQ(w.a.counters().bytes_out, to_b.size());
}

TEST(HostChannelTest, MegabyteUnderCreditFlowControlWithASmallReceiveBuffer) {
  HostChannelLimits small;
  small.receive_buffer = 4096;
  HostChannelLimits sender;
  sender.send_queue = 10000;
  sender.max_payload = 1500;
  Wire w = wire(small, sender);
  auto [a_end, b_end] = w.connect_b_to_a(100);
  const Bytes data = pattern(1024 * 1024, 7);
  Bytes got;
  std::size_t sent = 0;
  for (int round = 0; round < 100000 && got.size() < data.size(); ++round) {
    if (sent < data.size()) sent += *w.b.send(b_end, std::span(data).subspan(sent));
    w.pump();
    EXPECT_LE(w.a.info(a_end)->readable, 4096U);
    // A slow reader: at most 1000 bytes a round.
    std::uint8_t buf[1000];
    const std::size_t n = *w.a.read(a_end, buf);
    got.insert(got.end(), buf, buf + n);
  }
  EXPECT_EQ(got, data);
  EXPECT_EQ(w.a.counters().violation(Violation::kCreditOverrun), 0U);
  EXPECT_EQ(w.a.counters().resets_by_host + w.b.counters().resets_by_host, 0U);
  std::size_t updates = 0;
  for (const Bytes& p : w.seen) {
    if (op_of(p) == vsock::Op::kRw) {
      EXPECT_LE(header_of(p).len, 1500U);
    }
    if (op_of(p) == vsock::Op::kCreditUpdate) ++updates;
  }
  EXPECT_GT(updates, 0U);
  EXPECT_EQ(w.b.state(b_end), ConnectionState::kConnected);
}

TEST(HostChannelTest, PayloadsAreSplitAt64KiB) {
  HostChannelLimits big;
  big.receive_buffer = 1024 * 1024;
  big.send_queue = 1024 * 1024;
  Wire w = wire(big, big);
  auto [a_end, b_end] = w.connect_b_to_a(100);
  const Bytes data = pattern(300000, 3);
  EXPECT_EQ(*w.b.send(b_end, data), data.size());
  w.pump();
  EXPECT_EQ(read_all(w.a, a_end), data);
  std::size_t full = 0;
  for (const Bytes& p : w.seen) {
    EXPECT_LE(p.size(), vsock::kHeaderBytes + vsock::kMaxPayload);
    full += header_of(p).len == vsock::kMaxPayload ? 1 : 0;
  }
  EXPECT_EQ(full, 4U);
}

TEST(HostChannelTest, HalfShutdownKeepsTheOtherDirection) {
  Wire w = wire();
  auto [a_end, b_end] = w.connect_b_to_a(100);
  const Bytes last = pattern(500, 4);
  ASSERT_EQ(*w.b.send(b_end, last), last.size());
  ASSERT_TRUE(w.b.shutdown(b_end, kShutdownSend).has_value());
  w.pump();
  EXPECT_NE(events_of(w.a, a_end) & kEventPeerShutdown, 0U);
  EXPECT_EQ(read_all(w.a, a_end), last);
  EXPECT_EQ(read_error(w.a, a_end), HostChannelError::kEndOfStream);
  EXPECT_EQ(w.b.send(b_end, last).error(), HostChannelError::kShutDown);
  // The other direction still works.
  const Bytes reply = pattern(800, 5);
  ASSERT_EQ(*w.a.send(a_end, reply), reply.size());
  w.pump();
  EXPECT_EQ(read_all(w.b, b_end), reply);
  EXPECT_EQ(w.a.state(a_end), ConnectionState::kConnected);
}

TEST(HostChannelTest, ShutdownOfSendingFollowsTheQueuedBytes) {
  Wire w = wire({}, {});
  auto [a_end, b_end] = w.connect_b_to_a(100);
  const Bytes data = pattern(200000, 6);  // beyond a's 64 KiB credit: some wait in b's queue
  ASSERT_EQ(*w.b.send(b_end, data), data.size());
  ASSERT_TRUE(w.b.shutdown(b_end, kShutdownSend).has_value());
  Bytes got;
  for (int round = 0; round < 1000 && got.size() < data.size(); ++round) {
    w.pump();
    const Bytes chunk = read_all(w.a, a_end);
    got.insert(got.end(), chunk.begin(), chunk.end());
  }
  w.pump();
  EXPECT_EQ(got, data);
  EXPECT_EQ(read_error(w.a, a_end), HostChannelError::kEndOfStream);
  // No data after the SHUTDOWN on the wire.
  bool shut = false;
  for (const Bytes& p : w.seen) {
    if (op_of(p) == vsock::Op::kShutdown) shut = true;
    if (shut) {
      EXPECT_NE(op_of(p), vsock::Op::kRw);
    }
  }
  EXPECT_TRUE(shut);
}

TEST(HostChannelTest, CloseShutsDownBothAndEndsWithThePeersRst) {
  Wire w = wire();
  auto [a_end, b_end] = w.connect_b_to_a(100);
  const Bytes data = pattern(1000, 8);
  ASSERT_EQ(*w.b.send(b_end, data), data.size());
  ASSERT_TRUE(w.b.close(b_end).has_value());
  EXPECT_FALSE(w.b.state(b_end).has_value());  // the handle is given back at once
  w.pump();
  EXPECT_EQ(w.a.state(a_end), ConnectionState::kClosed);
  EXPECT_NE(events_of(w.a, a_end) & kEventClosed, 0U);
  EXPECT_EQ(read_all(w.a, a_end), data);  // what came before the end stays readable
  EXPECT_EQ(read_error(w.a, a_end), HostChannelError::kEndOfStream);
  EXPECT_EQ(w.b.connections(), 0U);  // the RST freed the closing slot
  EXPECT_TRUE(w.a.close(a_end).has_value());
  EXPECT_EQ(w.a.connections(), 0U);
  EXPECT_EQ(w.a.counters().resets_by_peer + w.b.counters().resets_by_peer, 0U);
}

TEST(HostChannelTest, FullShutdownWithoutCloseEndsInOrder) {
  Wire w = wire();
  auto [a_end, b_end] = w.connect_b_to_a(100);
  ASSERT_TRUE(w.a.shutdown(a_end, kShutdownBoth).has_value());
  w.pump();
  EXPECT_EQ(w.a.state(a_end), ConnectionState::kClosed);
  EXPECT_EQ(w.b.state(b_end), ConnectionState::kClosed);
  EXPECT_EQ(w.b.send(b_end, Bytes(3)).error(), HostChannelError::kShutDown);
}

TEST(HostChannelTest, ResetReachesThePeer) {
  Wire w = wire();
  auto [a_end, b_end] = w.connect_b_to_a(100);
  const Bytes data = pattern(100, 9);
  ASSERT_EQ(*w.b.send(b_end, data), data.size());
  w.pump();
  ASSERT_TRUE(w.b.reset(b_end).has_value());
  w.pump();
  EXPECT_EQ(w.a.state(a_end), ConnectionState::kReset);
  EXPECT_NE(events_of(w.a, a_end) & kEventReset, 0U);
  EXPECT_EQ(read_all(w.a, a_end), data);
  EXPECT_EQ(read_error(w.a, a_end), HostChannelError::kReset);
  EXPECT_EQ(w.a.send(a_end, data).error(), HostChannelError::kReset);
  EXPECT_EQ(w.a.counters().resets_by_peer, 1U);
  EXPECT_EQ(w.b.counters().resets_by_host, 1U);
}

TEST(HostChannelTest, RefusedWhenNobodyListens) {
  Wire w = wire();
  auto id = w.b.connect(kPeerCid, 4242);
  ASSERT_TRUE(id.has_value());
  w.pump();
  EXPECT_EQ(w.b.state(*id), ConnectionState::kRefused);
  EXPECT_NE(events_of(w.b, *id) & kEventRefused, 0U);
  EXPECT_EQ(w.b.send(*id, Bytes(1)).error(), HostChannelError::kRefused);
  EXPECT_EQ(w.b.counters().connects_refused, 1U);
  EXPECT_EQ(w.a.counters().unknown_flow, 1U);
  EXPECT_EQ(w.a.connections(), 0U);
  EXPECT_TRUE(w.b.close(*id).has_value());
  EXPECT_EQ(w.b.connections(), 0U);
}

TEST(HostChannelTest, ConnectToAReservedAddressIsRefusedAtOnce) {
  HostChannel h = make();
  EXPECT_EQ(h.connect(2, 1).error(), HostChannelError::kBadAddress);
  EXPECT_EQ(h.connect(0xffff'ffff, 1).error(), HostChannelError::kBadAddress);
  EXPECT_EQ(h.connect(3, kPortAny).error(), HostChannelError::kBadAddress);
  EXPECT_EQ(h.listen(kPortAny).error(), HostChannelError::kBadAddress);
  EXPECT_FALSE(h.has_outgoing());
}

TEST(HostChannelTest, ConnectWithoutAnswerIsWithdrawnAfterConnectTicks) {
  HostChannelLimits limits;
  limits.connect_ticks = 2;
  HostChannel h = make(limits);
  auto id = *h.connect(5, 80);
  auto out = h.take_outgoing();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(op_of(out[0]), vsock::Op::kRequest);
  EXPECT_EQ(header_of(out[0]).dst_cid, 5U);
  h.tick();
  h.tick();
  EXPECT_EQ(h.state(id), ConnectionState::kConnecting);
  h.tick();
  EXPECT_EQ(h.state(id), ConnectionState::kRefused);
  out = h.take_outgoing();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(op_of(out[0]), vsock::Op::kRst);
  EXPECT_EQ(h.counters().connects_timed_out, 1U);
}

TEST(HostChannelTest, RequestFloodIsBounded) {
  HostChannelLimits limits;
  limits.max_pending_accepts = 4;
  HostChannel h = make(limits);
  ASSERT_TRUE(h.listen(9).has_value());
  std::size_t resets = 0, responses = 0;
  for (std::uint32_t port = 1000; port < 11000; ++port) {
    h.receive(packet(vsock::Op::kRequest, port, 9));
    for (const Bytes& p : h.take_outgoing()) {
      resets += op_of(p) == vsock::Op::kRst ? 1 : 0;
      responses += op_of(p) == vsock::Op::kResponse ? 1 : 0;
    }
  }
  EXPECT_EQ(responses, 4U);
  EXPECT_EQ(resets, 10000U - 4U);
  EXPECT_EQ(h.connections(), 4U);
  EXPECT_EQ(h.counters().requests_refused, 10000U - 4U);
  // Accepting frees the backlog, but one peer never takes more than its share of the table.
  for (std::uint32_t port = 20000; port < 20100; ++port) {
    while (h.accept()) {
    }
    h.receive(packet(vsock::Op::kRequest, port, 9));
  }
  EXPECT_EQ(h.connections(), limits.max_connections_per_peer);
  // Another partition still gets in.
  h.receive(packet(vsock::Op::kRequest, 1, 9, 0, 4096, 0, 0, 7));
  EXPECT_EQ(h.connections(), limits.max_connections_per_peer + 1);
}

TEST(HostChannelTest, RstsWaitingForACallerThatDoesNotTakeThemAreBounded) {
  HostChannelLimits limits;
  limits.max_queued_resets = 16;
  HostChannel h = make(limits);
  for (std::uint32_t port = 1; port <= 1000; ++port) h.receive(packet(vsock::Op::kRw, port, 5, 10));
  EXPECT_EQ(h.counters().unknown_flow, 1000U);
  EXPECT_EQ(h.counters().resets_dropped, 1000U - 16U);
  EXPECT_EQ(h.take_outgoing().size(), 16U);
}

}  // namespace
}  // namespace tilehv::ioplane
