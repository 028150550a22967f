// HostChannel: the connection table and the calls the daemon makes (listen, accept, connect, send,
// read, shutdown, close); received packets are handled in host_channel_receive.cpp, outgoing ones
// built in host_channel_transmit.cpp.
#include "ioplane/host_channel.hpp"

#include <algorithm>

namespace tilehv::ioplane {
namespace {

// Local ports for connect() never pass this: above it lives VMADDR_PORT_ANY, and Linux hands out
// its own ephemeral ports below it as well.
constexpr std::uint32_t kLastLocalPort = 0x7fff'ffff;
// A receive buffer is host memory a peer can fill; 16 MiB per connection is far beyond any use.
constexpr std::uint32_t kMaxReceiveBuffer = 16 * 1024 * 1024;
constexpr std::size_t kMaxSendQueue = 64 * 1024 * 1024;
constexpr std::size_t kMaxConnections = 65536;

}  // namespace

tl::expected<HostChannel, HostChannelError> HostChannel::create(const HostChannelLimits& limits) {
  const bool valid = limits.max_connections >= 1 && limits.max_connections <= kMaxConnections &&
                     limits.max_connections_per_peer >= 1 && limits.max_listeners <= kMaxConnections &&
                     limits.max_pending_accepts >= 1 && limits.receive_buffer >= 1 &&
                     limits.receive_buffer <= kMaxReceiveBuffer && limits.send_queue >= 1 &&
                     limits.send_queue <= kMaxSendQueue && limits.max_payload >= 1 &&
                     limits.max_payload <= vdevices::vsock::kMaxPayload && limits.max_queued_resets >= 1 &&
                     limits.connect_ticks >= 1 && limits.close_ticks >= 1 &&
                     limits.first_local_port <= kLastLocalPort &&
                     // pick_local_port() must always find a free port in [first, last].
                     kLastLocalPort - limits.first_local_port > limits.max_connections + limits.max_listeners;
  if (!valid) return tl::unexpected(HostChannelError::kBadLimits);
  return HostChannel(limits);
}

HostChannel::HostChannel(const HostChannelLimits& limits)
    : limits_(limits), slots_(limits.max_connections), next_port_(limits.first_local_port) {}

HostChannel::Connection* HostChannel::lookup(ConnectionId id) {
  if (id.slot >= slots_.size()) return nullptr;
  Connection& c = slots_[id.slot];
  // A closing connection was given back by close(): its handle is no longer the daemon's.
  const bool held = c.in_use() && c.phase != Phase::kClosing;
  return held && c.generation == id.generation ? &c : nullptr;
}

const HostChannel::Connection* HostChannel::lookup(ConnectionId id) const {
  return const_cast<HostChannel*>(this)->lookup(id);
}

ConnectionId HostChannel::id_of(const Connection& c) const {
  return ConnectionId{static_cast<std::uint32_t>(&c - slots_.data()), c.generation};
}

HostChannel::Connection* HostChannel::allocate(std::uint64_t peer_cid) {
  std::size_t of_peer = 0;
  Connection* free_slot = nullptr;
  for (Connection& c : slots_) {
    if (!c.in_use()) {
      if (free_slot == nullptr) free_slot = &c;
    } else if (c.peer_cid == peer_cid) {
      ++of_peer;
    }
  }
  return of_peer < limits_.max_connections_per_peer ? free_slot : nullptr;
}

std::uint32_t HostChannel::pick_local_port() {
  // At most max_connections + max_listeners ports are taken and create() made the range larger, so
  // this ends.
  for (;;) {
    const std::uint32_t port = next_port_;
    next_port_ = port >= kLastLocalPort ? limits_.first_local_port : port + 1;
    if (listeners_.contains(port)) continue;
    const bool taken = std::any_of(slots_.begin(), slots_.end(),
                                   [port](const Connection& c) { return c.in_use() && c.local_port == port; });
    if (!taken) return port;
  }
}

void HostChannel::raise(Connection& c, std::uint32_t event) { c.events |= event; }

void HostChannel::forget(Connection& c) {
  if (c.live()) flows_.erase(flow_of(c));
  c.release();
}

tl::expected<void, HostChannelError> HostChannel::listen(std::uint32_t port) {
  if (port == kPortAny) return tl::unexpected(HostChannelError::kBadAddress);
  const bool taken = listeners_.contains(port) ||
                     std::any_of(slots_.begin(), slots_.end(), [port](const Connection& c) {
                       return c.in_use() && c.outgoing && c.local_port == port;
                     });
  if (taken) return tl::unexpected(HostChannelError::kPortInUse);
  if (listeners_.size() >= limits_.max_listeners) return tl::unexpected(HostChannelError::kTooManyListeners);
  listeners_.insert(port);
  return {};
}

void HostChannel::unlisten(std::uint32_t port) {
  if (listeners_.erase(port) == 0) return;
  for (Connection& c : slots_) {
    if (!c.in_use() || !c.pending_accept || c.local_port != port) continue;
    if (c.live()) {
      reset_connection(c);  // frees the slot: nobody holds it
    } else {
      c.release();
    }
  }
}

std::optional<ConnectionId> HostChannel::accept() {
  Connection* oldest = nullptr;
  for (Connection& c : slots_) {
    if (c.in_use() && c.pending_accept && (oldest == nullptr || c.arrival < oldest->arrival)) oldest = &c;
  }
  if (oldest == nullptr) return std::nullopt;
  oldest->pending_accept = false;
  return id_of(*oldest);
}

std::optional<ConnectionId> HostChannel::accept(std::uint32_t port) {
  Connection* oldest = nullptr;
  for (Connection& c : slots_) {
    if (c.in_use() && c.pending_accept && c.local_port == port &&
        (oldest == nullptr || c.arrival < oldest->arrival)) {
      oldest = &c;
    }
  }
  if (oldest == nullptr) return std::nullopt;
  oldest->pending_accept = false;
  return id_of(*oldest);
}

tl::expected<ConnectionId, HostChannelError> HostChannel::connect(std::uint64_t cid, std::uint32_t port) {
  if (cid < vdevices::vsock::kFirstGuestCid || cid >= kCidAny || port == kPortAny) {
    return tl::unexpected(HostChannelError::kBadAddress);
  }
  Connection* c = allocate(cid);
  if (c == nullptr) return tl::unexpected(HostChannelError::kNoFreeConnection);
  c->open(Phase::kConnecting, limits_, cid, port, pick_local_port());
  c->outgoing = true;
  c->request_due = true;
  flows_.emplace(flow_of(*c), id_of(*c).slot);
  return id_of(*c);
}

tl::expected<std::size_t, HostChannelError> HostChannel::send(ConnectionId id, std::span<const std::uint8_t> bytes) {
  Connection* c = lookup(id);
  if (c == nullptr || c->pending_accept) return tl::unexpected(HostChannelError::kBadConnection);
  if (c->phase == Phase::kRefused) return tl::unexpected(HostChannelError::kRefused);
  if (c->phase == Phase::kReset) return tl::unexpected(HostChannelError::kReset);
  // The peer will read no more: bytes sent now could never arrive (spec 5.10.6.5).
  if (c->phase == Phase::kClosed || (c->local_shutdown & kShutdownSend) != 0 ||
      (c->peer_shutdown & kShutdownReceive) != 0) {
    return tl::unexpected(HostChannelError::kShutDown);
  }
  const std::size_t taken = c->queued.push(bytes);
  if (taken < bytes.size()) c->writer_blocked = true;
  update_stall(*c);
  return taken;
}

tl::expected<std::size_t, HostChannelError> HostChannel::read(ConnectionId id, std::span<std::uint8_t> out) {
  Connection* c = lookup(id);
  if (c == nullptr || c->pending_accept) return tl::unexpected(HostChannelError::kBadConnection);
  if (out.empty()) return 0;
  if (!c->received.empty()) {
    const std::size_t n = c->received.pop(out);
    // SAFETY: n is at most the receive buffer, which create() bounded to 16 MiB.
    c->consumed(static_cast<std::uint32_t>(n));
    return n;
  }
  switch (c->phase) {
    case Phase::kRefused:
      return tl::unexpected(HostChannelError::kRefused);
    case Phase::kReset:
      return tl::unexpected(HostChannelError::kReset);
    case Phase::kClosed:
      return tl::unexpected(HostChannelError::kEndOfStream);
    default:
      break;
  }
  const bool finished = (c->peer_shutdown & kShutdownSend) != 0 || (c->local_shutdown & kShutdownReceive) != 0;
  if (finished) return tl::unexpected(HostChannelError::kEndOfStream);
  return 0;
}

tl::expected<void, HostChannelError> HostChannel::shutdown(ConnectionId id, std::uint32_t flags) {
  Connection* c = lookup(id);
  if (c == nullptr || c->pending_accept) return tl::unexpected(HostChannelError::kBadConnection);
  switch (c->phase) {
    case Phase::kConnecting:
      return tl::unexpected(HostChannelError::kNotConnected);
    case Phase::kRefused:
      return tl::unexpected(HostChannelError::kRefused);
    case Phase::kReset:
      return tl::unexpected(HostChannelError::kReset);
    case Phase::kClosed:
      return {};  // both sides are done already
    default:
      break;
  }
  const std::uint32_t added = flags & kShutdownBoth & ~c->local_shutdown;
  if (added == 0) return {};
  c->local_shutdown |= added;
  c->shutdown_due = true;
  if ((added & kShutdownReceive) != 0) {
    const std::size_t unread = c->received.size();
    c->received.clear();
    c->consumed(static_cast<std::uint32_t>(unread));  // SAFETY: bounded by the receive buffer
  }
  return {};
}

tl::expected<void, HostChannelError> HostChannel::close(ConnectionId id) {
  Connection* c = lookup(id);
  if (c == nullptr) return tl::unexpected(HostChannelError::kBadConnection);
  c->pending_accept = false;
  if (c->phase == Phase::kConnecting) {
    // Withdraws the REQUEST: a RESPONSE still on its way meets a closed flow and gets RST anyway.
    queue_rst(header_for(*c, Op::kRst, 0, 0));
    forget(*c);
    return {};
  }
  if (c->phase != Phase::kConnected) {
    forget(*c);  // ended already
    return {};
  }
  c->events = 0;
  c->received.clear();
  if (c->local_shutdown != kShutdownBoth) {
    c->local_shutdown = kShutdownBoth;
    c->shutdown_due = true;
  }
  c->phase = Phase::kClosing;
  c->age = 0;
  return {};
}

tl::expected<void, HostChannelError> HostChannel::reset(ConnectionId id) {
  Connection* c = lookup(id);
  if (c == nullptr) return tl::unexpected(HostChannelError::kBadConnection);
  if (c->live()) {
    ++counters_.resets_by_host;
    queue_rst(header_for(*c, Op::kRst, 0, 0));
  }
  forget(*c);
  return {};
}

std::optional<ConnectionState> HostChannel::state(ConnectionId id) const {
  const Connection* c = lookup(id);
  if (c == nullptr) return std::nullopt;
  switch (c->phase) {
    case Phase::kConnecting:
      return ConnectionState::kConnecting;
    case Phase::kConnected:
      return ConnectionState::kConnected;
    case Phase::kRefused:
      return ConnectionState::kRefused;
    case Phase::kClosed:
      return ConnectionState::kClosed;
    case Phase::kReset:
      return ConnectionState::kReset;
    default:  // kFree and kClosing never pass lookup()
      return std::nullopt;
  }
}

std::optional<ConnectionInfo> HostChannel::info(ConnectionId id) const {
  const Connection* c = lookup(id);
  const std::optional<ConnectionState> s = state(id);
  if (c == nullptr || !s) return std::nullopt;
  return ConnectionInfo{.state = *s,
                        .peer_cid = c->peer_cid,
                        .peer_port = c->peer_port,
                        .local_port = c->local_port,
                        .local_shutdown = c->local_shutdown,
                        .peer_shutdown = c->peer_shutdown,
                        .readable = c->received.size(),
                        .queued = c->queued.size(),
                        .peer_credit = c->peer_credit(),
                        .pending_accept = c->pending_accept};
}

std::vector<HostChannelEvent> HostChannel::take_events() {
  std::vector<HostChannelEvent> events;
  for (Connection& c : slots_) {
    if (!c.in_use() || c.phase == Phase::kClosing || c.events == 0) continue;
    events.push_back(HostChannelEvent{id_of(c), c.events});
    c.events = 0;
  }
  return events;
}

std::size_t HostChannel::connections() const {
  return static_cast<std::size_t>(
      std::count_if(slots_.begin(), slots_.end(), [](const Connection& c) { return c.in_use(); }));
}

void HostChannel::tick() {
  for (Connection& c : slots_) {
    if (c.phase == Phase::kConnecting) {
      if (++c.age > limits_.connect_ticks) {
        ++counters_.connects_timed_out;
        queue_rst(header_for(c, Op::kRst, 0, 0));  // withdraws the REQUEST
        end(c, Phase::kRefused, kEventRefused);
      }
      continue;
    }
    if (c.phase == Phase::kClosing || (c.phase == Phase::kConnected && c.awaiting_rst)) {
      // Spec 5.10.6.5: without the peer's RST in reasonable time, RST disconnects forcibly. A
      // closing connection whose peer withholds the credit for its last bytes ends the same way.
      if (++c.age > limits_.close_ticks) {
        reset_connection(c);
        continue;
      }
    }
    // The peer's CREDIT_UPDATE may have been dropped on a full port: ask again.
    if (c.live() && c.stalled) c.credit_request_due = true;
  }
}

}  // namespace tilehv::ioplane
