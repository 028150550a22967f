// HostChannel: the receive side: every packet checked, then matched to its connection or listener and
// applied to that connection's state (virtio 1.2 spec 5.10.6.2 to 5.10.6.5).
#include "ioplane/host_channel.hpp"

namespace tilehv::ioplane {

namespace vsock = vdevices::vsock;

void HostChannel::receive(std::span<const std::uint8_t> packet) {
  ++counters_.packets_in;
  // Not trusted to mean anything: no reply either, since its addresses are part of what is broken.
  if (vsock::check_packet(packet)) {
    violation(Violation::kMalformed);
    return;
  }
  const Header h = vsock::read_header(packet);
  if (h.dst_cid != vsock::kHostCid) {
    violation(Violation::kWrongDestination);
    return;
  }
  // A reply could reach no such source: a reserved CID, the host's own, or a wildcard.
  if (h.src_cid < vsock::kFirstGuestCid || h.src_cid == kCidAny || h.src_port == kPortAny) {
    violation(Violation::kBadSource);
    return;
  }
  // SAFETY: check_packet admitted only the operations 1 to 7, all of which Op names.
  const auto op = static_cast<Op>(h.op);
  const auto payload = packet.subspan(vsock::kHeaderBytes);
  if (const auto flow = flows_.find(FlowKey{h.src_cid, h.src_port, h.dst_port}); flow != flows_.end()) {
    handle_flow(slots_[flow->second], h, op, payload);
    return;
  }
  if (op == Op::kRequest && listeners_.contains(h.dst_port)) {
    handle_request(h);
    return;
  }
  // Spec 5.10.6.4: a REQUEST nobody listens for, and any packet of an unknown flow (a connection
  // closed here, say), gets RST.
  ++counters_.unknown_flow;
  answer_with_rst(h);
}

void HostChannel::handle_request(const Header& h) {
  std::size_t pending = 0;
  for (const Connection& c : slots_) {
    if (c.in_use() && c.pending_accept && c.local_port == h.dst_port) ++pending;
  }
  // A flood of REQUESTs fills at most the backlog, the peer's share of the table, or the table.
  Connection* c = pending < limits_.max_pending_accepts ? allocate(h.src_cid) : nullptr;
  if (c == nullptr) {
    ++counters_.requests_refused;
    answer_with_rst(h);
    return;
  }
  c->open(Phase::kConnected, limits_, h.src_cid, h.src_port, h.dst_port);
  c->pending_accept = true;
  c->arrival = ++arrivals_;
  c->response_due = true;
  if (!c->note_peer_credit(h.buf_alloc, h.fwd_cnt)) violation(Violation::kBadCreditFields);
  flows_.emplace(flow_of(*c), id_of(*c).slot);
  ++counters_.connections_accepted;
  raise(*c, kEventIncoming);
}

void HostChannel::handle_flow(Connection& c, const Header& h, Op op, std::span<const std::uint8_t> payload) {
  // Every packet of a flow carries the sender's buf_alloc and fwd_cnt (spec 5.10.6.3); a RST ends
  // the flow, so its fields no longer matter.
  if (op != Op::kRst && !c.note_peer_credit(h.buf_alloc, h.fwd_cnt)) violation(Violation::kBadCreditFields);
  switch (c.phase) {
    case Phase::kConnecting:
      handle_connecting(c, op);
      break;
    case Phase::kConnected:
      handle_connected(c, h, op, payload);
      break;
    case Phase::kClosing:
      handle_closing(c, h, op);
      break;
    default:  // only live connections are in the flow table
      return;
  }
  if (c.live()) update_stall(c);
}

void HostChannel::handle_connecting(Connection& c, Op op) {
  switch (op) {
    case Op::kResponse:
      c.phase = Phase::kConnected;
      c.age = 0;
      ++counters_.connections_established;
      raise(c, kEventConnected);
      return;
    case Op::kRst:
      ++counters_.connects_refused;
      end(c, Phase::kRefused, kEventRefused);
      return;
    default:  // nothing but an answer may come first
      violation(Violation::kUnexpectedOp);
      reset_connection(c);
      return;
  }
}

void HostChannel::handle_connected(Connection& c, const Header& h, Op op, std::span<const std::uint8_t> payload) {
  switch (op) {
    case Op::kRw:
      handle_data(c, payload);
      return;
    case Op::kCreditUpdate:
      return;  // the credit was taken from the header already
    case Op::kCreditRequest:
      c.credit_update_due = true;
      return;
    case Op::kShutdown:
      handle_peer_shutdown(c, h.flags);
      return;
    case Op::kRst:
      // After this side's full SHUTDOWN the peer's RST is the orderly end; otherwise a reset.
      if (c.awaiting_rst) {
        end(c, Phase::kClosed, kEventClosed);
      } else {
        ++counters_.resets_by_peer;
        end(c, Phase::kReset, kEventReset);
      }
      return;
    default:  // REQUEST or RESPONSE on an established flow
      violation(Violation::kUnexpectedOp);
      reset_connection(c);
      return;
  }
}

void HostChannel::handle_closing(Connection& c, const Header& h, Op op) {
  switch (op) {
    case Op::kRst:
      if (!c.awaiting_rst) ++counters_.resets_by_peer;
      end(c, Phase::kClosed, 0);
      return;
    case Op::kShutdown:
      handle_peer_shutdown(c, h.flags);
      return;
    case Op::kCreditRequest:
      c.credit_update_due = true;
      return;
    case Op::kRw:
    case Op::kCreditUpdate:
      return;  // nobody reads any more: dropped; the SHUTDOWN on its way tells the peer
    default:
      violation(Violation::kUnexpectedOp);
      reset_connection(c);
      return;
  }
}

void HostChannel::handle_data(Connection& c, std::span<const std::uint8_t> payload) {
  if (payload.empty()) return;
  if ((c.peer_shutdown & kShutdownSend) != 0) {
    violation(Violation::kDataAfterShutdown);
    reset_connection(c);
    return;
  }
  // SAFETY: check_packet bounded the payload to 64 KiB.
  const auto len = static_cast<std::uint32_t>(payload.size());
  // A peer that honours the credit it was told never sends more; one that does not would make the
  // host hold more than it advertised.
  if (!c.within_credit(len)) {
    violation(Violation::kCreditOverrun);
    reset_connection(c);
    return;
  }
  c.rx_cnt += len;
  counters_.bytes_in += len;
  if ((c.local_shutdown & kShutdownReceive) != 0) {
    c.consumed(len);  // nobody reads: consumed at once, the credit goes back in the usual steps
    return;
  }
  // Fits: unread bytes (rx_cnt - fwd_cnt) never exceed rx_cnt - advertised_fwd_cnt, which
  // within_credit() kept at most buf_alloc - len, and the buffer holds buf_alloc.
  c.received.push(payload);
  raise(c, kEventReadable);
}

void HostChannel::handle_peer_shutdown(Connection& c, std::uint32_t flags) {
  const std::uint32_t added = flags & kShutdownBoth & ~c.peer_shutdown;
  c.peer_shutdown |= added;
  if (added != 0) raise(c, kEventPeerShutdown);
  // Bytes queued for a peer that reads no more can never be delivered.
  if ((added & kShutdownReceive) != 0) c.queued.clear();
  if (c.peer_shutdown == kShutdownBoth) {
    // Spec 5.10.6.5: the peer neither sends nor receives any more and expects RST, which ends the
    // connection in order. Bytes it sent before stay readable.
    queue_rst(header_for(c, Op::kRst, 0, 0));
    end(c, Phase::kClosed, kEventClosed);
  }
}

void HostChannel::end(Connection& c, Phase phase, std::uint32_t event) {
  flows_.erase(flow_of(c));
  c.queued.clear();
  c.request_due = c.response_due = c.shutdown_due = false;
  c.credit_update_due = c.credit_request_due = false;
  c.awaiting_rst = c.stalled = c.writer_blocked = false;
  if (c.phase == Phase::kClosing || (c.pending_accept && phase == Phase::kReset)) {
    c.release();  // nobody holds its handle, nor ever will
    return;
  }
  c.phase = phase;
  raise(c, event);
}

void HostChannel::reset_connection(Connection& c) {
  ++counters_.resets_by_host;
  queue_rst(header_for(c, Op::kRst, 0, 0));
  end(c, Phase::kReset, kEventReset);
}

void HostChannel::answer_with_rst(const Header& h) {
  if (static_cast<Op>(h.op) == Op::kRst) return;  // two confused ends would bounce RSTs forever
  queue_rst(vsock::reset_for(h));
}

void HostChannel::queue_rst(const Header& rst) {
  // Only a caller that stopped taking packets lets these pile up; the peers then learn of their
  // dead flows from the next packet they send.
  if (resets_.size() >= limits_.max_queued_resets) {
    ++counters_.resets_dropped;
    return;
  }
  resets_.push_back(rst);
}

void HostChannel::update_stall(Connection& c) {
  const bool waiting = c.phase != Phase::kConnecting && !c.queued.empty() && c.peer_credit() == 0;
  if (waiting && !c.stalled) {
    // Spec 5.10.6.3: a sender may ask for the peer's credit. Once per stall; tick() asks again.
    c.stalled = true;
    c.credit_request_due = true;
  } else if (!waiting) {
    c.stalled = false;
    c.credit_request_due = false;
  }
}

}  // namespace tilehv::ioplane
