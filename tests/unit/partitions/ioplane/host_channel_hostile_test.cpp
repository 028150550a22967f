// Tests for HostChannel against a hand-driven partition: credit accounting, credit overruns, malformed
// and stale packets, protocol violations, close timeouts, events and limits.
#include "ioplane/host_channel.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "unit/partitions/ioplane/host_channel_peers.hpp"

namespace tilehv::ioplane {
namespace {

using namespace testing;
namespace vsock = vdevices::vsock;

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
