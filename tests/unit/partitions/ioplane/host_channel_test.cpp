// Tests for HostChannel: two channels against each other (connect and accept both ways, data, a
// 1 MiB transfer under flow control, shutdown, resets, refusals) and hand-built hostile packets
// (REQUEST floods, credit overruns, malformed and stale packets, protocol violations).
#include "ioplane/host_channel.hpp"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace tilehv::ioplane {
namespace {

namespace vsock = vdevices::vsock;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kPeerCid = 3;

// The header's fields, copied out of the packed struct so that the test macros can bind to them.
struct Fields {
  std::uint64_t src_cid, dst_cid;
  std::uint32_t src_port, dst_port, len;
  std::uint16_t type, op;
  std::uint32_t flags, buf_alloc, fwd_cnt;
};
Fields header_of(const Bytes& p) {
  const vsock::PacketHeader h = vsock::read_header(p);
  return Fields{h.src_cid, h.dst_cid, h.src_port, h.dst_port, h.len, h.type, h.op, h.flags, h.buf_alloc, h.fwd_cnt};
}
vsock::Op op_of(const Bytes& p) { return static_cast<vsock::Op>(header_of(p).op); }

// A packet as a partition (CID 3 by default) would send it to the host.
Bytes packet(vsock::Op op, std::uint32_t src_port, std::uint32_t dst_port, std::uint32_t len = 0,
             std::uint32_t buf_alloc = 64 * 1024, std::uint32_t fwd_cnt = 0, std::uint32_t flags = 0,
             std::uint64_t src_cid = kPeerCid) {
  vsock::PacketHeader h{};
  h.src_cid = src_cid, h.dst_cid = vsock::kHostCid, h.src_port = src_port, h.dst_port = dst_port;
  h.len = len, h.type = vsock::kTypeStream, h.op = static_cast<std::uint16_t>(op), h.flags = flags;
  h.buf_alloc = buf_alloc, h.fwd_cnt = fwd_cnt;
  Bytes p(vsock::kHeaderBytes + len);
  for (std::uint32_t i = 0; i < len; ++i) p[vsock::kHeaderBytes + i] = static_cast<std::uint8_t>(i);
  std::memcpy(p.data(), &h, sizeof h);
  return p;
}

Bytes pattern(std::size_t n, std::uint32_t seed) {
  Bytes b(n);
  std::uint32_t x = seed;
  for (auto& v : b) {
    x = x * 1103515245U + 12345U;
    v = static_cast<std::uint8_t>(x >> 16);
  }
  return b;
}

HostChannel make(HostChannelLimits limits = {}) {
  auto channel = HostChannel::create(limits);
  EXPECT_TRUE(channel.has_value());
  return std::move(*channel);  // valid limits: create() cannot fail (checked above)
}

std::uint32_t events_of(HostChannel& c, ConnectionId id) {
  std::uint32_t flags = 0;
  for (const HostChannelEvent& e : c.take_events()) {
    if (e.id == id) flags |= e.flags;
  }
  return flags;
}

// Two channels wired together. Both speak as CID 2; the wire presents each to the other as the
// partition CID 3, as a NAT would, so each believes it talks to a partition.
struct Wire {
  HostChannel a;
  HostChannel b;
  std::vector<Bytes> seen;  // every packet that crossed, either way

  static Bytes translate(Bytes p) {
    const Fields f = header_of(p);
    EXPECT_EQ(f.src_cid, vsock::kHostCid);
    EXPECT_EQ(f.type, vsock::kTypeStream);
    EXPECT_LE(f.len, vsock::kMaxPayload);
    vsock::PacketHeader h = vsock::read_header(p);
    h.src_cid = kPeerCid;
    h.dst_cid = vsock::kHostCid;
    std::memcpy(p.data(), &h, sizeof h);
    return p;
  }
  // Moves packets both ways until both are quiet.
  void pump() {
    for (int round = 0; round < 100000 && (a.has_outgoing() || b.has_outgoing()); ++round) {
      for (Bytes& p : a.take_outgoing()) deliver(b, std::move(p));
      for (Bytes& p : b.take_outgoing()) deliver(a, std::move(p));
    }
  }
  void deliver(HostChannel& to, Bytes p) {
    Bytes t = translate(std::move(p));
    seen.push_back(t);
    to.receive(t);
  }
  // a listens on port, b connects: returns (a's end, b's end).
  std::pair<ConnectionId, ConnectionId> connect_b_to_a(std::uint32_t port) {
    EXPECT_TRUE(a.listen(port).has_value());
    const auto client = b.connect(kPeerCid, port);
    EXPECT_TRUE(client.has_value());
    pump();
    const auto server = a.accept(port);
    EXPECT_TRUE(server.has_value());
    return {*server, *client};
  }
};

Wire wire(HostChannelLimits la = {}, HostChannelLimits lb = {}) { return Wire{make(la), make(lb), {}}; }

HostChannelError read_error(HostChannel& c, ConnectionId id) {
  std::uint8_t buf[16];
  const auto n = c.read(id, buf);
  EXPECT_FALSE(n.has_value());
  return n ? HostChannelError::kBadLimits : n.error();
}

Bytes read_all(HostChannel& c, ConnectionId id) {
  Bytes out;
  std::uint8_t buf[777];
  for (;;) {
    auto n = c.read(id, buf);
    if (!n || *n == 0) return out;
    out.insert(out.end(), buf, buf + *n);
  }
}

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

// A hand-driven partition connected to a host listener on port 9, from port 77.
struct Accepted {
  HostChannel h;
  ConnectionId id;
};
Accepted accepted(HostChannelLimits limits = {}, std::uint32_t peer_buf_alloc = 64 * 1024) {
  Accepted a{make(limits), {}};
  EXPECT_TRUE(a.h.listen(9).has_value());
  a.h.receive(packet(vsock::Op::kRequest, 77, 9, 0, peer_buf_alloc));
  a.id = *a.h.accept();
  auto out = a.h.take_outgoing();
  EXPECT_EQ(out.size(), 1U);
  EXPECT_EQ(op_of(out.at(0)), vsock::Op::kResponse);
  EXPECT_EQ(header_of(out.at(0)).buf_alloc, limits.receive_buffer);
  return a;
}

TEST(HostChannelTest, CreditOverrunResetsTheConnectionAndIsCounted) {
  HostChannelLimits limits;
  limits.receive_buffer = 1000;
  Accepted a = accepted(limits);
  a.h.receive(packet(vsock::Op::kRw, 77, 9, 600));
  EXPECT_EQ(a.h.state(a.id), ConnectionState::kConnected);
  a.h.receive(packet(vsock::Op::kRw, 77, 9, 401));  // 1001 bytes against 1000 of credit
  EXPECT_EQ(a.h.state(a.id), ConnectionState::kReset);
  EXPECT_EQ(a.h.counters().violation(Violation::kCreditOverrun), 1U);
  EXPECT_EQ(a.h.counters().resets_by_host, 1U);
  auto out = a.h.take_outgoing();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(op_of(out[0]), vsock::Op::kRst);
  EXPECT_EQ(header_of(out[0]).dst_port, 77U);
  EXPECT_EQ(header_of(out[0]).src_port, 9U);
  // The bytes within the credit stay readable.
  EXPECT_EQ(read_all(a.h, a.id).size(), 600U);
}

TEST(HostChannelTest, CreditIsTheAdvertisedOneNotTheFreeSpace) {
  HostChannelLimits limits;
  limits.receive_buffer = 1000;
  Accepted a = accepted(limits);
  a.h.receive(packet(vsock::Op::kRw, 77, 9, 1000));
  Bytes buf(100);
  ASSERT_EQ(*a.h.read(a.id, buf), 100U);  // freed 100, but the peer was not told yet (below a quarter)
  EXPECT_FALSE(a.h.has_outgoing());
  a.h.receive(packet(vsock::Op::kRw, 77, 9, 1));
  EXPECT_EQ(a.h.state(a.id), ConnectionState::kReset);
}

TEST(HostChannelTest, ReaderAnnouncesFreedSpaceAndAnswersCreditRequests) {
  HostChannelLimits limits;
  limits.receive_buffer = 1000;
  Accepted a = accepted(limits);
  a.h.receive(packet(vsock::Op::kRw, 77, 9, 1000));
  Bytes buf(300);
  ASSERT_EQ(*a.h.read(a.id, buf), 300U);
  auto out = a.h.take_outgoing();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(op_of(out[0]), vsock::Op::kCreditUpdate);
  EXPECT_EQ(header_of(out[0]).fwd_cnt, 300U);
  a.h.receive(packet(vsock::Op::kRw, 77, 9, 300));  // exactly the new credit
  EXPECT_EQ(a.h.state(a.id), ConnectionState::kConnected);
  for (int i = 0; i < 5; ++i) a.h.receive(packet(vsock::Op::kCreditRequest, 77, 9));
  out = a.h.take_outgoing();
  ASSERT_EQ(out.size(), 1U);  // asked five times, owed once
  EXPECT_EQ(op_of(out[0]), vsock::Op::kCreditUpdate);
  EXPECT_EQ(header_of(out[0]).buf_alloc, 1000U);
}

TEST(HostChannelTest, SenderStaysWithinThePeersCreditAndAsksForMore) {
  Accepted a = accepted({}, 10);
  const Bytes data = pattern(25, 10);
  ASSERT_EQ(*a.h.send(a.id, data), 25U);
  auto out = a.h.take_outgoing();
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(op_of(out[0]), vsock::Op::kRw);
  EXPECT_EQ(header_of(out[0]).len, 10U);
  EXPECT_TRUE(std::equal(data.begin(), data.begin() + 10, out[0].begin() + vsock::kHeaderBytes));
  EXPECT_EQ(op_of(out[1]), vsock::Op::kCreditRequest);
  EXPECT_EQ(a.h.info(a.id)->queued, 15U);
  // Still stalled at the next tick: asked again.
  a.h.tick();
  out = a.h.take_outgoing();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(op_of(out[0]), vsock::Op::kCreditRequest);
  // The peer read the first 10 bytes.
  a.h.receive(packet(vsock::Op::kCreditUpdate, 77, 9, 0, 10, 10));
  out = a.h.take_outgoing();
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(header_of(out[0]).len, 10U);
  EXPECT_TRUE(std::equal(data.begin() + 10, data.begin() + 20, out[0].begin() + vsock::kHeaderBytes));
  // A peer claiming to have consumed more than was sent gives no credit and is counted.
  a.h.receive(packet(vsock::Op::kCreditUpdate, 77, 9, 0, 10, 1000));
  EXPECT_EQ(a.h.counters().violation(Violation::kBadCreditFields), 1U);
  EXPECT_EQ(a.h.info(a.id)->peer_credit, 0U);
}

TEST(HostChannelTest, SendQueueIsBoundedAndSignalsRoom) {
  HostChannelLimits limits;
  limits.send_queue = 100;
  Accepted a = accepted(limits, 0);
  EXPECT_EQ(*a.h.send(a.id, Bytes(150)), 100U);
  EXPECT_EQ(*a.h.send(a.id, Bytes(1)), 0U);
  (void)a.h.take_outgoing();
  a.h.receive(packet(vsock::Op::kCreditUpdate, 77, 9, 0, 40, 0));
  (void)a.h.take_outgoing();
  EXPECT_NE(events_of(a.h, a.id) & kEventWritable, 0U);
  EXPECT_EQ(*a.h.send(a.id, Bytes(150)), 40U);
}

TEST(HostChannelTest, MalformedPacketsAreIgnoredAndCounted) {
  Accepted a = accepted();
  Bytes short_packet(20, 0);
  a.h.receive(short_packet);
  Bytes mismatch = packet(vsock::Op::kRw, 77, 9, 10);
  mismatch.pop_back();
  a.h.receive(mismatch);
  Bytes dgram = packet(vsock::Op::kRw, 77, 9, 10);
  dgram[28] = 2;  // type: SOCK_DGRAM
  a.h.receive(dgram);
  Bytes unknown = packet(vsock::Op::kRw, 77, 9);
  unknown[30] = 9;  // op
  a.h.receive(unknown);
  Bytes control_with_data = packet(vsock::Op::kRw, 77, 9, 4);
  control_with_data[30] = static_cast<std::uint8_t>(vsock::Op::kShutdown);
  a.h.receive(control_with_data);
  EXPECT_EQ(a.h.counters().violation(Violation::kMalformed), 5U);
  a.h.receive(packet(vsock::Op::kRst, 77, 9, 0, 0, 0, 0, 2));  // from the host's own CID
  a.h.receive(packet(vsock::Op::kRst, 77, 9, 0, 0, 0, 0, 1));
  a.h.receive(packet(vsock::Op::kRst, kPortAny, 9));
  EXPECT_EQ(a.h.counters().violation(Violation::kBadSource), 3U);
  Bytes elsewhere = packet(vsock::Op::kRst, 77, 9);
  elsewhere[8] = 4;  // dst_cid
  a.h.receive(elsewhere);
  EXPECT_EQ(a.h.counters().violation(Violation::kWrongDestination), 1U);
  EXPECT_FALSE(a.h.has_outgoing());
  EXPECT_EQ(a.h.state(a.id), ConnectionState::kConnected);
  EXPECT_EQ(a.h.counters().packets_in, 10U);
}

TEST(HostChannelTest, StalePacketsForClosedConnectionsAreAnsweredWithRst) {
  Accepted a = accepted();
  a.h.receive(packet(vsock::Op::kRst, 77, 9));
  EXPECT_EQ(a.h.state(a.id), ConnectionState::kReset);
  ASSERT_TRUE(a.h.close(a.id).has_value());
  a.h.receive(packet(vsock::Op::kRw, 77, 9, 10));
  a.h.receive(packet(vsock::Op::kCreditUpdate, 77, 9));
  a.h.receive(packet(vsock::Op::kRst, 77, 9));  // never answered
  auto out = a.h.take_outgoing();
  ASSERT_EQ(out.size(), 2U);
  for (const Bytes& p : out) {
    EXPECT_EQ(op_of(p), vsock::Op::kRst);
    EXPECT_EQ(header_of(p).src_cid, vsock::kHostCid);
    EXPECT_EQ(header_of(p).dst_cid, kPeerCid);
    EXPECT_EQ(header_of(p).dst_port, 77U);
  }
  EXPECT_EQ(a.h.counters().unknown_flow, 3U);
  // The old handle is dead, even after its slot is used again.
  EXPECT_EQ(read_error(a.h, a.id), HostChannelError::kBadConnection);
  a.h.receive(packet(vsock::Op::kRequest, 78, 9));
  auto again = a.h.accept();
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->slot, a.id.slot);
  EXPECT_FALSE(a.h.state(a.id).has_value());
}

TEST(HostChannelTest, ProtocolViolationsResetTheConnection) {
  Accepted a = accepted();
  a.h.receive(packet(vsock::Op::kResponse, 77, 9));
  EXPECT_EQ(a.h.state(a.id), ConnectionState::kReset);
  EXPECT_EQ(a.h.counters().violation(Violation::kUnexpectedOp), 1U);
  Accepted b = accepted();
  b.h.receive(packet(vsock::Op::kShutdown, 77, 9, 0, 64 * 1024, 0, kShutdownSend));
  b.h.receive(packet(vsock::Op::kRw, 77, 9, 5));
  EXPECT_EQ(b.h.state(b.id), ConnectionState::kReset);
  EXPECT_EQ(b.h.counters().violation(Violation::kDataAfterShutdown), 1U);
  // An answer of anything but RESPONSE or RST to our REQUEST.
  HostChannel h = make();
  auto id = *h.connect(kPeerCid, 5);
  const auto local = header_of(h.take_outgoing().at(0)).src_port;
  h.receive(packet(vsock::Op::kRw, 5, local, 3));
  EXPECT_EQ(h.state(id), ConnectionState::kReset);
  EXPECT_EQ(op_of(h.take_outgoing().at(0)), vsock::Op::kRst);
}

TEST(HostChannelTest, CloseWithoutTheAnswerResetsAfterCloseTicks) {
  Accepted a = accepted();
  ASSERT_TRUE(a.h.close(a.id).has_value());
  auto out = a.h.take_outgoing();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(op_of(out[0]), vsock::Op::kShutdown);
  EXPECT_EQ(header_of(out[0]).flags, kShutdownBoth);
  a.h.tick();
  a.h.tick();
  EXPECT_EQ(a.h.connections(), 1U);
  a.h.tick();
  EXPECT_EQ(a.h.connections(), 0U);
  out = a.h.take_outgoing();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(op_of(out[0]), vsock::Op::kRst);
  EXPECT_EQ(a.h.counters().resets_by_host, 1U);
}

TEST(HostChannelTest, PeerFullShutdownIsAnsweredWithRst) {
  Accepted a = accepted();
  a.h.receive(packet(vsock::Op::kRw, 77, 9, 10));
  a.h.receive(packet(vsock::Op::kShutdown, 77, 9, 0, 64 * 1024, 0, kShutdownBoth));
  EXPECT_EQ(a.h.state(a.id), ConnectionState::kClosed);
  auto out = a.h.take_outgoing();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(op_of(out[0]), vsock::Op::kRst);
  EXPECT_EQ(read_all(a.h, a.id).size(), 10U);
  EXPECT_EQ(a.h.counters().resets_by_peer + a.h.counters().resets_by_host, 0U);
}

TEST(HostChannelTest, UnlistenResetsConnectionsNobodyAccepted) {
  HostChannel h = make();
  ASSERT_TRUE(h.listen(9).has_value());
  EXPECT_EQ(h.listen(9).error(), HostChannelError::kPortInUse);
  h.receive(packet(vsock::Op::kRequest, 1, 9));
  h.receive(packet(vsock::Op::kRequest, 2, 9));
  (void)h.take_outgoing();
  const auto kept = *h.accept(9);
  h.unlisten(9);
  EXPECT_EQ(h.connections(), 1U);
  EXPECT_EQ(h.state(kept), ConnectionState::kConnected);
  auto out = h.take_outgoing();
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(header_of(out[0]).dst_port, 2U);
  h.receive(packet(vsock::Op::kRequest, 3, 9));  // nobody listens any more
  EXPECT_EQ(h.counters().unknown_flow, 1U);
}

TEST(HostChannelTest, EventsAccumulatePerConnection) {
  Accepted a = accepted();
  (void)a.h.take_events();
  for (int i = 0; i < 100; ++i) a.h.receive(packet(vsock::Op::kRw, 77, 9, 10));
  auto events = a.h.take_events();
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].flags, kEventReadable);
  EXPECT_TRUE(a.h.take_events().empty());
}

TEST(HostChannelTest, BadLimitsAreRefused) {
  HostChannelLimits limits;
  limits.max_payload = vsock::kMaxPayload + 1;
  EXPECT_EQ(HostChannel::create(limits).error(), HostChannelError::kBadLimits);
  limits = {};
  limits.max_connections = 0;
  EXPECT_EQ(HostChannel::create(limits).error(), HostChannelError::kBadLimits);
  limits = {};
  limits.receive_buffer = 0;
  EXPECT_EQ(HostChannel::create(limits).error(), HostChannelError::kBadLimits);
}

}  // namespace
}  // namespace tilehv::ioplane
