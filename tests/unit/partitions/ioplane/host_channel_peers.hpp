// Test support for HostChannel: packets as a partition sends them, two channels wired together as a
// NAT would join them, and a hand-driven partition accepted by a host listener.
#pragma once

#include <cstring>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "ioplane/host_channel.hpp"

namespace tilehv::ioplane::testing {

namespace vsock = vdevices::vsock;
using Bytes = std::vector<std::uint8_t>;


inline constexpr std::uint64_t kPeerCid = 3;

// The header's fields, copied out of the packed struct so that the test macros can bind to them.
struct Fields {
  std::uint64_t src_cid, dst_cid;
  std::uint32_t src_port, dst_port, len;
  std::uint16_t type, op;
  std::uint32_t flags, buf_alloc, fwd_cnt;
};
inline Fields header_of(const Bytes& p) {
  const vsock::PacketHeader h = vsock::read_header(p);
  return Fields{h.src_cid, h.dst_cid, h.src_port, h.dst_port, h.len, h.type, h.op, h.flags, h.buf_alloc, h.fwd_cnt};
}
inline vsock::Op op_of(const Bytes& p) { return static_cast<vsock::Op>(header_of(p).op); }

// A packet as a partition (CID 3 by default) would send it to the host.
inline Bytes packet(vsock::Op op, std::uint32_t src_port, std::uint32_t dst_port, std::uint32_t len = 0,
             std::uint32_t buf_alloc = 64 * 1024, std::uint32_t fwd_cnt = 0, std::uint32_t flags = 0,
             std::uint64_t src_cid = kPeerCid) {
  vsock::PacketHeader h{};
  h.src_cid = src_cid, h.dst_cid = vsock::kHostCid, h.src_port = src_port, h.dst_port = dst_port;
  h.len = len, h.type = vsock::kTypeStream, h.op = static_cast<std::uint16_t>(op), h.flags = flags;
  h.buf_alloc = buf_alloc, h.fwd_cnt = fwd_cnt;
  Bytes p(vsock::kHeaderBytes + len);
  std::uint8_t next = 0;
  for (auto it = p.begin() + vsock::kHeaderBytes; it != p.end(); ++it) *it = next++;
  std::memcpy(p.data(), &h, sizeof h);
  return p;
}

inline Bytes pattern(std::size_t n, std::uint32_t seed) {
  Bytes b(n);
  std::uint32_t x = seed;
  for (auto& v : b) {
    x = x * 1103515245U + 12345U;
    v = static_cast<std::uint8_t>(x >> 16);
  }
  return b;
}

inline HostChannel make(HostChannelLimits limits = {}) {
  auto channel = HostChannel::create(limits);
  EXPECT_TRUE(channel.has_value());
  return std::move(*channel);  // valid limits: create() cannot fail (checked above)
}

inline std::uint32_t events_of(HostChannel& c, ConnectionId id) {
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

inline Wire wire(HostChannelLimits la = {}, HostChannelLimits lb = {}) { return Wire{make(la), make(lb), {}}; }

inline HostChannelError read_error(HostChannel& c, ConnectionId id) {
  std::uint8_t buf[16];
  const auto n = c.read(id, buf);
  EXPECT_FALSE(n.has_value());
  return n ? HostChannelError::kBadLimits : n.error();
}

inline Bytes read_all(HostChannel& c, ConnectionId id) {
  Bytes out;
  std::uint8_t buf[777];
  for (;;) {
    auto n = c.read(id, buf);
    if (!n || *n == 0) return out;
    out.insert(out.end(), buf, buf + *n);
  }
}

// A hand-driven partition connected to a host listener on port 9, from port 77.
struct Accepted {
  HostChannel h;
  ConnectionId id;
};
inline Accepted accepted(HostChannelLimits limits = {}, std::uint32_t peer_buf_alloc = 64 * 1024) {
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

}  // namespace tilehv::ioplane::testing
