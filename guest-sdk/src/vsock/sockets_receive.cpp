// vsock stream sockets: the receive side: every packet checked, then matched to its connection or
// listener and applied to that connection's state (virtio 1.2 spec 5.10.6).
#include <guest/vsock/sockets.hpp>

namespace guest::vsock {
namespace {

// poll() handles at most this many packets per call, so a peer that floods cannot keep a kernel
// inside it: every blocking call polls again on its next round.
constexpr size_t poll_budget = 64;
// A listener holds at most this many connections nobody accepted yet, so REQUESTs alone cannot
// take every slot from the kernel's own connect().
constexpr size_t max_pending_accepts = Sockets::kMaxSockets / 2;

bool known_op(Op op) { return op >= Op::request && op <= Op::credit_request; }

}  // namespace

void Sockets::poll() {
  if (transport_.take_reset()) handle_transport_reset();
  flush_replies();
  // Each packet may need a reply; while the reply queue is full the rest wait in the rx queue.
  for (size_t i = 0; i < poll_budget && replies_count_ < kMaxQueuedReplies; ++i) {
    Header h{};
    if (!transport_.receive(h, payload_, sizeof payload_)) break;
    handle_packet(h, payload_);
  }
}

void Sockets::handle_packet(const Header& h, const uint8_t* payload) {
  ++counters_.packets;
  const uint64_t self = transport_.local_cid();
  // Not ours to answer: addressed to another CID, or from one no reply could reach.
  if (h.dst_cid != self || !is_peer_cid(h.src_cid) || h.src_cid == self) {
    ++counters_.not_for_us;
    return;
  }
  // Only stream sockets exist here (no SEQPACKET negotiated); only RW carries a payload.
  const bool malformed = h.type != kTypeStream || !known_op(h.op) || (h.op != Op::rw && h.len != 0);
  Connection* c = find_flow(h);
  if (c != nullptr) {
    if (malformed) {
      reset_connection(*c, counters_.malformed, h.op != Op::rst);
      return;
    }
    c->note_peer_credit(h);
    handle_flow(*c, h, payload);
    return;
  }
  if (malformed) {
    ++counters_.malformed;
  } else if (h.op == Op::request) {
    if (Connection* listener = find_listener(h.dst_port); listener != nullptr) {
      handle_request(*listener, h);
      return;
    }
    ++counters_.unknown_connection;
  } else {
    ++counters_.unknown_connection;
  }
  // Spec 5.10.6.4: a REQUEST nobody listens for, and any packet of an unknown flow, gets RST.
  answer_with_rst(h);
}

Connection* Sockets::find_flow(const Header& h) {
  for (Connection& c : connections_) {
    if (c.carries(h)) return &c;
  }
  return nullptr;
}

Connection* Sockets::find_listener(uint32_t port) {
  for (Connection& c : connections_) {
    if (c.state == State::listening && c.local_port == port) return &c;
  }
  return nullptr;
}

void Sockets::handle_flow(Connection& c, const Header& h, const uint8_t* payload) {
  if (c.state == State::connected) {
    handle_connected(c, h, payload);
    return;
  }
  if (c.state == State::connecting) {
    if (h.op == Op::response) {
      c.state = State::connected;
    } else if (h.op == Op::rst) {
      ++counters_.resets_received;
      c.state = State::closed;  // was_reset stays false: a refusal, connect() tells the difference
    } else {
      reset_connection(c, counters_.protocol_errors);  // nothing but an answer may come first
    }
    return;
  }
  // Closing: close() sent SHUTDOWN for both directions and waits for the RST that ends it. The
  // peer closing at the same time sends SHUTDOWN instead, and gets the RST it asks for.
  if (h.op == Op::rst) {
    ++counters_.resets_received;
    c.release();
  } else if (h.op == Op::shutdown && ((c.peer_shutdown | h.flags) & kShutdownBoth) == kShutdownBoth) {
    control(c, Op::rst);
    ++counters_.resets_sent;
    c.release();
  } else if (h.op == Op::shutdown) {
    c.peer_shutdown |= h.flags & kShutdownBoth;
  }
  // Data still in flight is dropped: nobody will read it.
}

void Sockets::handle_connected(Connection& c, const Header& h, const uint8_t* payload) {
  switch (h.op) {
    case Op::rw: {
      if (h.len == 0) return;
      // A peer that honours the credit never sends more than the buffer's free space.
      const bool reading = (c.local_shutdown & kShutdownReceive) == 0;
      if (!(reading ? c.received.append(payload, h.len) : c.received.discard(h.len))) {
        reset_connection(c, counters_.credit_violations);
        return;
      }
      // Bytes nobody reads are consumed at once; their credit goes back in the usual steps.
      if (!reading && c.received.update_due()) control(c, Op::credit_update);
      return;
    }
    case Op::credit_update:
      return;  // the credit was taken from the header already
    case Op::credit_request:
      control(c, Op::credit_update);
      return;
    case Op::shutdown:
      c.peer_shutdown |= h.flags & kShutdownBoth;
      if (c.peer_shutdown == kShutdownBoth) {
        // Spec 5.10.6.5: the peer neither sends nor receives any more and expects RST, which ends
        // the connection. Bytes it sent before stay readable.
        control(c, Op::rst);
        ++counters_.resets_sent;
        c.state = State::closed;
      }
      return;
    case Op::rst:
      ++counters_.resets_received;
      c.state = State::closed;
      // The answer to a full shutdown of ours is the orderly end; any other RST is a reset.
      c.was_reset = c.local_shutdown != kShutdownBoth;
      return;
    default:  // REQUEST or RESPONSE on an established flow
      reset_connection(c, counters_.protocol_errors);
      return;
  }
}

void Sockets::handle_request(Connection& listener, const Header& h) {
  const auto slot = static_cast<uint8_t>(&listener - connections_);
  size_t pending = 0;
  for (const Connection& c : connections_) {
    if (c.state != State::free && c.pending_accept && c.listener == slot) ++pending;
  }
  Connection* c = pending < max_pending_accepts ? allocate() : nullptr;
  if (c == nullptr) {
    ++counters_.refused_requests;
    answer_with_rst(h);
    return;
  }
  c->open(State::connected, listener.local_port, h.src_cid, h.src_port);
  c->note_peer_credit(h);
  c->listener = slot;
  c->pending_accept = true;
  c->arrival = ++arrivals_;
  control(*c, Op::response);
}

void Sockets::reset_connection(Connection& c, uint64_t& counter, bool send_rst) {
  ++counter;
  if (send_rst) {
    control(c, Op::rst);
    ++counters_.resets_sent;
  }
  if (c.state == State::closing) {
    c.release();  // close() is waiting for exactly this end
    return;
  }
  c.state = State::closed;
  c.was_reset = true;
}

void Sockets::answer_with_rst(const Header& h) {
  if (h.op == Op::rst) return;  // never RST a RST: two confused ends would bounce them forever
  ++counters_.resets_sent;
  // Always a stream RST, even for a packet of another type: STREAM is the only type negotiated, and
  // a device may drop anything else it is asked to send.
  send_control(Header{h.dst_cid, h.src_cid, h.dst_port, h.src_port, 0, kTypeStream, Op::rst, 0, 0, 0});
}

void Sockets::handle_transport_reset() {
  // Spec 5.10.6.6: communication was interrupted (the guest moved, say): established connections
  // are gone without RST, listeners remain and take REQUESTs for the new CID.
  ++counters_.transport_resets;
  for (Connection& c : connections_) {
    if (c.state == State::closing) {
      c.release();
    } else if (c.state == State::connecting || c.state == State::connected) {
      c.state = State::closed;
      c.was_reset = true;
    }
  }
  // Queued replies carry the old CID and belong to flows that no longer exist.
  replies_head_ = 0;
  replies_count_ = 0;
}

}  // namespace guest::vsock
