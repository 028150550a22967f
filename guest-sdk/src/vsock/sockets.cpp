// vsock stream sockets: the calls a kernel makes (connect, listen/accept, send, receive, shutdown,
// close) and the transmit side; received packets are handled in sockets_receive.cpp.
#include <guest/cpu.hpp>
#include <guest/vsock/sockets.hpp>

namespace guest::vsock {
namespace {

// Local ports for connect() come from [first, last]: above the ports Linux reserves for
// privileged listeners (1023), and below the top, where VMADDR_PORT_ANY (0xffffffff) lives.
constexpr uint32_t first_local_port = 1024;
constexpr uint32_t last_local_port = 0x7fffffff;

}  // namespace

Sockets::Sockets(Transport& transport) : transport_(transport) {
  // A random start, so a guest that restarts does not reuse the ports of its last life, which a
  // peer may still remember.
  next_port_ = first_local_port + static_cast<uint32_t>(cpu::rdtsc() % (last_local_port - first_local_port));
}

Connection* Sockets::lookup(SocketId id) {
  if (id.slot >= kMaxSockets) return nullptr;
  Connection& c = connections_[id.slot];
  return c.state != State::free && c.generation == id.generation ? &c : nullptr;
}

const Connection* Sockets::lookup(SocketId id) const { return const_cast<Sockets*>(this)->lookup(id); }

SocketId Sockets::id_of(const Connection& c) const {
  return SocketId{static_cast<uint8_t>(&c - connections_), c.generation};
}

Connection* Sockets::allocate() {
  for (Connection& c : connections_) {
    if (c.state == State::free) return &c;
  }
  return nullptr;
}

bool Sockets::port_taken(uint32_t port) const {
  for (const Connection& c : connections_) {
    if (c.state != State::free && c.local_port == port) return true;
  }
  return false;
}

uint32_t Sockets::pick_local_port() {
  // At most kMaxSockets ports are taken, so this ends within kMaxSockets + 1 tries.
  for (;;) {
    const uint32_t port = next_port_;
    next_port_ = port >= last_local_port ? first_local_port : port + 1;
    if (!port_taken(port)) return port;
  }
}

Error Sockets::connect(uint64_t cid, uint32_t port, const time::Deadline& deadline, SocketId& out) {
  const uint64_t self = transport_.local_cid();
  if (!is_guest_cid(self)) return Error::not_ready;
  if (!is_peer_cid(cid) || cid == self) return Error::bad_address;
  poll();
  Connection* c = allocate();
  if (c == nullptr) return Error::no_free_socket;
  c->open(State::connecting, pick_local_port(), cid, port);
  control(*c, Op::request);
  for (;;) {
    if (c->state == State::connected) {
      out = id_of(*c);
      return Error::none;
    }
    if (c->state != State::connecting) {
      // RST before RESPONSE is a refusal; anything else that ended it (a transport reset, a
      // protocol error, already answered with RST) is a reset.
      const Error error = c->was_reset ? Error::reset : Error::refused;
      c->release();
      return error;
    }
    if (deadline.expired()) {
      // Withdraws the request: a RESPONSE that is still on its way then meets an RST.
      control(*c, Op::rst);
      ++counters_.resets_sent;
      c->release();
      return Error::timed_out;
    }
    wait(deadline, false);
    poll();
  }
}

Error Sockets::listen(uint32_t port, SocketId& out) {
  if (port_taken(port)) return Error::port_in_use;
  Connection* c = allocate();
  if (c == nullptr) return Error::no_free_socket;
  c->open(State::listening, port, 0, 0);
  out = id_of(*c);
  return Error::none;
}

Error Sockets::accept(SocketId listener, const time::Deadline& deadline, SocketId& out) {
  Connection* l = lookup(listener);
  if (l == nullptr || l->state != State::listening) return Error::bad_socket;
  const auto slot = static_cast<uint8_t>(l - connections_);
  for (;;) {
    poll();
    Connection* oldest = nullptr;
    for (Connection& c : connections_) {
      if (c.state == State::free || !c.pending_accept || c.listener != slot) continue;
      if (c.state == State::closed && c.was_reset) {
        c.release();  // reset before anyone saw it: nothing to hand out
        continue;
      }
      if (oldest == nullptr || c.arrival < oldest->arrival) oldest = &c;
    }
    if (oldest != nullptr) {
      oldest->pending_accept = false;
      out = id_of(*oldest);
      return Error::none;
    }
    if (deadline.expired()) return Error::timed_out;
    wait(deadline, false);
  }
}

Error Sockets::send(SocketId socket, const void* data, size_t size, const time::Deadline& deadline, size_t* sent) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (sent != nullptr) *sent = 0;
  if (size == 0) {
    const Connection* c = lookup(socket);
    return c == nullptr || c->state == State::listening || c->pending_accept ? Error::bad_socket : Error::none;
  }
  size_t done = 0;
  bool stalled = false;
  time::Deadline next_request = time::Deadline::after_ns(0);
  Error error = Error::none;
  while (done < size) {
    poll();
    Connection* c = lookup(socket);
    if (c == nullptr || c->state == State::listening || c->pending_accept) {
      error = Error::bad_socket;
      break;
    }
    if (c->state == State::closed) {
      error = c->was_reset ? Error::reset : Error::closed;
      break;
    }
    if ((c->local_shutdown & kShutdownSend) != 0 || (c->peer_shutdown & kShutdownReceive) != 0) {
      error = Error::closed;
      break;
    }
    size_t chunk = size - done;
    if (chunk > transport_.max_payload()) chunk = transport_.max_payload();
    if (chunk > c->peer_free()) chunk = c->peer_free();
    if (chunk > 0) {
      const Header h = c->packet(transport_.local_cid(), Op::rw, 0, static_cast<uint32_t>(chunk));
      if (transmit(h, bytes + done) == SendResult::sent) {
        c->received.advertised();
        c->tx_cnt += static_cast<uint32_t>(chunk);
        done += chunk;
        stalled = false;
        continue;
      }
    } else if (!stalled) {
      stalled = true;
      next_request = time::Deadline::after_ns(kCreditStallNs);
    } else if (next_request.expired()) {
      // Still no credit: a peer that does not volunteer CREDIT_UPDATE, or one whose update was
      // dropped, is asked (spec 5.10.6.3), and again while the stall lasts.
      control(*c, Op::credit_request);
      next_request = time::Deadline::after_ns(kCreditRequestIntervalNs);
    }
    if (deadline.expired()) {
      error = Error::timed_out;
      break;
    }
    wait(chunk > 0 ? deadline : (next_request.remaining_ns() < deadline.remaining_ns() ? next_request : deadline),
         chunk > 0);
  }
  if (sent != nullptr) *sent = done;
  return error;
}

Error Sockets::receive(SocketId socket, void* buffer, size_t capacity, const time::Deadline& deadline,
                       size_t& received) {
  received = 0;
  for (;;) {
    poll();
    Connection* c = lookup(socket);
    if (c == nullptr || c->state == State::listening || c->pending_accept) return Error::bad_socket;
    if (capacity == 0) return Error::none;
    if (c->received.unread() != 0) {
      received = c->received.read(buffer, capacity);
      if (c->state == State::connected && c->received.update_due()) control(*c, Op::credit_update);
      return Error::none;
    }
    if (c->state == State::closed) return c->was_reset ? Error::reset : Error::end_of_stream;
    if ((c->peer_shutdown & kShutdownSend) != 0 || (c->local_shutdown & kShutdownReceive) != 0) {
      return Error::end_of_stream;
    }
    if (deadline.expired()) return Error::timed_out;
    wait(deadline, false);
  }
}

Error Sockets::shutdown(SocketId socket, uint32_t flags) {
  poll();
  Connection* c = lookup(socket);
  if (c == nullptr || c->state == State::listening || c->pending_accept) return Error::bad_socket;
  if (c->state != State::connected) return c->was_reset ? Error::reset : Error::closed;
  flags &= kShutdownBoth;
  if ((flags & ~c->local_shutdown) == 0) return Error::none;
  c->local_shutdown |= flags;
  // Unread bytes of a side that will read no more are dropped, and their credit given back.
  if ((flags & kShutdownReceive) != 0) c->received.discard(0);
  // The flags are cumulative: a peer that missed an earlier SHUTDOWN still learns everything.
  control(*c, Op::shutdown, c->local_shutdown);
  return Error::none;
}

Error Sockets::close(SocketId socket, const time::Deadline& deadline) {
  poll();
  Connection* c = lookup(socket);
  if (c == nullptr) return Error::bad_socket;
  if (c->state == State::listening) {
    const auto slot = static_cast<uint8_t>(c - connections_);
    for (Connection& child : connections_) {
      if (child.state == State::free || !child.pending_accept || child.listener != slot) continue;
      if (child.state != State::closed) reset_connection(child, counters_.resets_sent);
      child.release();
    }
    c->release();
    return Error::none;
  }
  if (c->state != State::connected) {  // closed: the peer is gone already
    c->release();
    return Error::none;
  }
  c->local_shutdown = kShutdownBoth;
  control(*c, Op::shutdown, kShutdownBoth);
  c->state = State::closing;
  const uint32_t generation = c->generation;
  // The peer's RST frees the slot (sockets_receive.cpp); a new generation means that happened.
  while (c->state == State::closing && c->generation == generation) {
    if (deadline.expired()) {
      // Spec 5.10.6.5: without an RST in reasonable time, RST forcibly disconnects.
      reset_connection(*c, counters_.resets_sent);
      c->release();
      return Error::timed_out;
    }
    wait(deadline, false);
    poll();
  }
  return Error::none;
}

bool Sockets::flush(const time::Deadline& deadline) {
  for (;;) {
    flush_replies();
    if (replies_count_ == 0) return transport_.wait_sent(deadline);
    if (deadline.expired()) return false;
    transport_.wait(deadline, true);
  }
}

Error Sockets::peer(SocketId socket, uint64_t& cid, uint32_t& port) const {
  const Connection* c = lookup(socket);
  if (c == nullptr || c->state == State::listening) return Error::bad_socket;
  cid = c->peer_cid;
  port = c->peer_port;
  return Error::none;
}

uint32_t Sockets::local_port(SocketId socket) const {
  const Connection* c = lookup(socket);
  return c == nullptr ? 0 : c->local_port;
}

size_t Sockets::readable(SocketId socket) const {
  const Connection* c = lookup(socket);
  return c == nullptr ? 0 : c->received.unread();
}

size_t Sockets::open_sockets() const {
  size_t open = 0;
  for (const Connection& c : connections_) open += c.state != State::free ? 1 : 0;
  return open;
}

SendResult Sockets::transmit(const Header& h, const void* payload) {
  flush_replies();
  if (replies_count_ != 0) return SendResult::busy;
  return transport_.send(h, payload);
}

bool Sockets::send_control(const Header& h) {
  if (transmit(h, nullptr) == SendResult::sent) return true;
  if (replies_count_ == kMaxQueuedReplies) {
    ++counters_.replies_dropped;
    return false;
  }
  replies_[(replies_head_ + replies_count_) % kMaxQueuedReplies] = h;
  ++replies_count_;
  return true;
}

void Sockets::control(Connection& c, Op op, uint32_t flags) {
  if (send_control(c.packet(transport_.local_cid(), op, flags, 0))) c.received.advertised();
}

void Sockets::flush_replies() {
  while (replies_count_ != 0 && transport_.send(replies_[replies_head_], nullptr) == SendResult::sent) {
    replies_head_ = (replies_head_ + 1) % kMaxQueuedReplies;
    --replies_count_;
  }
}

void Sockets::wait(const time::Deadline& deadline, bool for_send) {
  transport_.wait(deadline, for_send || replies_count_ != 0);
}

}  // namespace guest::vsock
