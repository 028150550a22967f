// IoPlane: shadow partitions (docs/design/shadows.md). A shadow's ports are mirrors of its live
// partition's: every input record pushed into a live port's ring is pushed into its mirror's right
// after (or kept in a bounded backlog), and what either side sends reaches the session's comparator;
// the shadow's records go nowhere else. Promotion and rollback swap the two sides' rings between a
// port's places at an input boundary, so the switch, the router and the sensors never notice.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "ioplane/io_plane.hpp"
#include "util/errno_text.hpp"

namespace tilehv::ioplane {
namespace {

using vdevices::port::PushResult;
// Outputs this long quiet, with every input read from the ring, make an input boundary. A VMM takes
// inputs from the ring before its guest has processed them (its device buffers them), so quiet must
// outlast a busy host's scheduling gaps while the guest works off what its VMM buffered.
constexpr std::uint64_t kQuietNs = 150'000'000;
constexpr auto kBoundaryPoll = std::chrono::milliseconds(2);
constexpr std::size_t kMaxUnreadInputs = 65536;

}  // namespace

std::uint64_t IoPlane::now_ns() const {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - plane_epoch_).count());
}

ShadowSession* IoPlane::session_named(const std::string& shadow) {
  auto it = shadows_.find(shadow);
  return it == shadows_.end() ? nullptr : it->second.get();
}

std::optional<std::uint64_t> IoPlane::live_port_named(LivePort::Kind kind, const std::string& name,
                                                      std::uint64_t connection) const {
  for (const auto& [id, port] : ports_) {
    if (!port->is_mirror && port->kind == kind && port->name == name && port->connection == connection) return id;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> IoPlane::find_live_connection(const ShadowSession& session) const {
  for (const auto& [id, connection] : connections_) {
    if (connection->shadow.empty() && connection->grants && *connection->grants == session.grants()) return id;
  }
  return std::nullopt;
}

tl::expected<util::UniqueFd, std::string> IoPlane::open_shadow_link(policy::Shadow spec, std::set<std::string> grants) {
  auto ends = link_pair();
  if (!ends) return tl::unexpected(ends.error());
  std::lock_guard lock(mutex_);
  const std::string name = spec.name;
  if (shadows_.count(name) != 0) return tl::unexpected(fmt::format("the plane already has a shadow named {}", name));
  const auto id = add_connection(std::move(ends->first), grants, {});
  if (!id) return tl::unexpected(std::string("cannot watch the shadow's plane link"));
  connections_.at(*id)->shadow = name;
  shadows_.emplace(name, std::make_unique<ShadowSession>(std::move(spec), std::move(grants)));
  update_timer();
  return std::move(ends->second);
}

void IoPlane::link_mirror(std::uint64_t mirror_id) {
  LivePort& mirror = *ports_.at(mirror_id);
  if (mirror.session == nullptr || !mirror.session->live_connection()) return;
  auto live_id = live_port_named(mirror.kind, mirror.name, *mirror.session->live_connection());
  if (!live_id) return;  // linked when the live partition's VMM takes the port
  LivePort& live = *ports_.at(*live_id);
  live.mirror = mirror_id;
  if (mirror.kind != LivePort::Kind::kSensor || !mirror.session->mirroring()) return;
  // A stream not started yet reaches the shadow whole, header included, as the live partition's
  // bytes; one under way: the header first, then the live stream from its next line.
  if (live.feed->bytes_delivered() == 0) return;
  const std::string header = live.feed->header();
  mirror.backlog.emplace_back(header.begin(), header.end());
  mirror.backlog_bytes += header.size();
  mirror.skip_to_line = !live.feed->at_line_start();
  flush_backlog(mirror_id, mirror);
}

tl::expected<vdevices::port::PushResult, vdevices::port::RingError> IoPlane::deliver(LivePort& port,
                                                                                     std::span<const std::uint8_t> bytes) {
  if (port.held) {
    if (port.held_inputs.size() >= kMaxHeldInputs) return PushResult::kFull;
    port.held_inputs.emplace_back(bytes.begin(), bytes.end());
    return PushResult::kPushed;
  }
  auto sent = port.endpoint.send(bytes);
  if (sent && *sent == PushResult::kPushed && port.mirror) mirror_input(port, bytes);
  return sent;
}

void IoPlane::mirror_input(LivePort& live, std::span<const std::uint8_t> bytes) {
  const std::uint64_t mirror_id = *live.mirror;
  auto m = ports_.find(mirror_id);
  if (m == ports_.end()) {
    live.mirror.reset();
    return;
  }
  LivePort& mirror = *m->second;
  ShadowSession* session = mirror.session;
  if (session == nullptr || !session->mirroring()) return;
  const auto input = live.kind == LivePort::Kind::kNet       ? policy::MirroredInput::kNetwork
                     : live.kind == LivePort::Kind::kChannel ? policy::MirroredInput::kChannels
                                                             : policy::MirroredInput::kSensors;
  if (!session->mirrors(input)) return;
  std::span<const std::uint8_t> record = bytes;
  if (mirror.skip_to_line) {
    const auto newline = std::find(record.begin(), record.end(), std::uint8_t{'\n'});
    if (newline == record.end()) return;
    record = record.subspan(static_cast<std::size_t>(newline - record.begin()) + 1);
    mirror.skip_to_line = false;
    if (record.empty()) return;
  }
  const std::uint64_t now = now_ns();
  session->input(live.name, live.kind == LivePort::Kind::kSensor, record, now);
  if (const shadow::Comparator* comparator = session->comparator()) {
    live.unread_inputs.emplace_back(live.endpoint.outbound().produced(), comparator->inputs());
    if (live.unread_inputs.size() > kMaxUnreadInputs) live.unread_inputs.pop_front();
  }
  if (mirror.backlog.empty()) {
    auto sent = mirror.endpoint.send(record);
    if (!sent) {
      session->fault("vmm-crash", fmt::format("the shadow broke the ring of its port {}: {}", mirror.name, sent.error().message), now);
      return cut_off(mirror_id, sent.error().message);
    }
    if (*sent == PushResult::kPushed) return;
  }
  if (mirror.backlog.size() >= ShadowSession::kMaxBacklogRecords ||
      mirror.backlog_bytes + record.size() > ShadowSession::kMaxBacklogBytes) {
    session->fault("input-overrun",
                   fmt::format("the shadow fell {} records ({} bytes) behind on port {}: it cannot keep up with the live partition",
                               mirror.backlog.size(), mirror.backlog_bytes, mirror.name),
                   now);
    mirror.backlog.clear();
    mirror.backlog_bytes = 0;
    return;
  }
  mirror.backlog.emplace_back(record.begin(), record.end());
  mirror.backlog_bytes += record.size();
}

void IoPlane::flush_backlog(std::uint64_t id, LivePort& mirror) {
  while (!mirror.backlog.empty()) {
    auto sent = mirror.endpoint.send(mirror.backlog.front());
    if (!sent) return cut_off(id, sent.error().message);
    if (*sent == PushResult::kFull) return;  // the ring wakes the plane when it has room
    mirror.backlog_bytes -= mirror.backlog.front().size();
    mirror.backlog.pop_front();
  }
}

void IoPlane::record_live_output(LivePort& live, std::span<const std::uint8_t> bytes) {
  const std::uint64_t now = now_ns();
  live.last_output_ns = now;
  if (!live.mirror) return;
  auto m = ports_.find(*live.mirror);
  if (m == ports_.end() || m->second->session == nullptr) return;
  if (shadow::Comparator* comparator = m->second->session->comparator()) {
    // What the partition has read, over all its ports: an output follows from inputs read before it.
    std::uint64_t read = 0;
    for (auto& [id, port] : ports_) {
      if (port->is_mirror || port->connection != live.connection) continue;
      const std::uint64_t read_up_to = port->endpoint.outbound().consumer_position();
      while (!port->unread_inputs.empty() && port->unread_inputs.front().first <= read_up_to) {
        port->inputs_read = port->unread_inputs.front().second;
        port->unread_inputs.pop_front();
      }
      read = std::max(read, port->inputs_read);
    }
    comparator->live_consumed(read);
  }
  const auto stream = live.kind == LivePort::Kind::kNet       ? policy::OutputStream::kNetwork
                      : live.kind == LivePort::Kind::kChannel ? policy::OutputStream::kChannels
                                                              : policy::OutputStream::kSensors;
  (void)m->second->session->output(stream, shadow::Side::kLive, live.name, bytes, now);
}

void IoPlane::serve_mirror(std::uint64_t id, LivePort& mirror) {
  flush_backlog(id, mirror);
  if (ports_.count(id) == 0 || mirror.muted) return;
  const auto stream = mirror.kind == LivePort::Kind::kNet       ? policy::OutputStream::kNetwork
                      : mirror.kind == LivePort::Kind::kChannel ? policy::OutputStream::kChannels
                                                                : policy::OutputStream::kSensors;
  for (int turn = 0; turn < kFramesPerTurn; ++turn) {
    auto got = mirror.endpoint.receive(frame_);
    if (!got) {
      if (mirror.session != nullptr) {
        mirror.session->fault("vmm-crash", fmt::format("the shadow broke the ring of its port {}: {}", mirror.name, got.error().message),
                              now_ns());
      }
      return cut_off(id, got.error().message);
    }
    if (!got->has_value()) {
      if (mirror.endpoint.prepare_to_sleep()) return;
      continue;
    }
    const std::uint64_t now = now_ns();
    mirror.last_output_ns = now;
    const std::span<const std::uint8_t> message(frame_.data(), **got);
    if (mirror.session != nullptr && !mirror.session->output(stream, shadow::Side::kShadow, mirror.name, message, now)) {
      // A stopped shadow's records are not read any more: a flooding guest waits on its own ring.
      (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, mirror.endpoint.wake_fd(), nullptr);
      mirror.muted = true;
      return;
    }
  }
  const std::uint64_t one = 1;
  (void)!::write(mirror.endpoint.wake_fd(), &one, sizeof one);
}

void IoPlane::tick_shadows() {
  if (shadows_.empty()) return;
  const std::uint64_t now = now_ns();
  for (auto& [name, session] : shadows_) session->check_watchdog(now);
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> IoPlane::mirror_pairs(const ShadowSession& session) const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> pairs;
  for (const auto& [id, port] : ports_) {
    if (port->is_mirror || !port->mirror) continue;
    auto m = ports_.find(*port->mirror);
    if (m != ports_.end() && m->second->session == &session) pairs.emplace_back(id, m->first);
  }
  return pairs;
}

std::vector<std::uint64_t> IoPlane::hold_partition_ports(const ShadowSession& session) {
  std::vector<std::uint64_t> held;
  const std::uint64_t now = now_ns();
  const auto live = session.live_connection();
  for (auto& [id, port] : ports_) {
    // A port held since its birth is taken over.
    if (port->is_mirror || !live || port->connection != *live) continue;
    port->held = true;
    port->last_output_ns = now;
    held.push_back(id);
  }
  return held;
}

void IoPlane::release_ports(const std::vector<std::uint64_t>& ids) {
  for (std::uint64_t id : ids) {
    auto p = ports_.find(id);
    if (p == ports_.end() || !p->second->held) continue;
    LivePort& port = *p->second;
    port.held = false;
    // Held since its birth: its sensor's time starts now, not with a backlog of the wait's samples.
    if (port.kind == LivePort::Kind::kSensor && port.feed->bytes_delivered() == 0) port.epoch = std::chrono::steady_clock::now();
    std::deque<std::vector<std::uint8_t>> queued = std::move(port.held_inputs);
    port.held_inputs.clear();
    for (const std::vector<std::uint8_t>& record : queued) {
      auto sent = deliver(port, record);
      if (!sent) {
        cut_off(id, sent.error().message);
        break;
      }
      // A ring without room drops, as it would have without the hold.
    }
    if (ports_.count(id) != 0 && port.kind == LivePort::Kind::kSensor) serve_sensor(id, port);
  }
}

tl::expected<void, std::string> IoPlane::wait_for_boundary(const std::vector<std::uint64_t>& ids,
                                                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::string busy;
    {
      std::lock_guard lock(mutex_);
      const std::uint64_t now = now_ns();
      for (std::uint64_t id : ids) {
        auto p = ports_.find(id);
        if (p == ports_.end()) return tl::unexpected(fmt::format("a port went away while waiting for an input boundary"));
        const LivePort& port = *p->second;
        if (!port.backlog.empty() || !port.endpoint.outbound().consumer_caught_up()) {
          busy = fmt::format("port {} has unread inputs", port.name);
        } else if (now - port.last_output_ns < kQuietNs) {
          busy = fmt::format("port {} is still sending", port.name);
        }
        if (!busy.empty()) break;
      }
    }
    if (busy.empty()) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      return tl::unexpected(fmt::format("no input boundary within {} ms: {}", timeout.count(), busy));
    }
    std::this_thread::sleep_for(kBoundaryPoll);
  }
}

tl::expected<void, std::string> IoPlane::begin_mirroring(const std::string& shadow, std::chrono::milliseconds timeout) {
  std::vector<std::uint64_t> held;
  {
    std::lock_guard lock(mutex_);
    ShadowSession* session = session_named(shadow);
    if (session == nullptr) return tl::unexpected(fmt::format("no shadow named {}", shadow));
    if (session->state() != ShadowSession::State::kAttaching) {
      return tl::unexpected(fmt::format("shadow {} is {}, not attaching", shadow, session_state_name(session->state())));
    }
    const auto live = find_live_connection(*session);
    if (!live) return tl::unexpected(fmt::format("the live partition of shadow {} holds no plane link", shadow));
    session->set_live_connection(*live);
    held = hold_partition_ports(*session);
  }
  auto boundary = wait_for_boundary(held, timeout);
  std::lock_guard lock(mutex_);
  ShadowSession* session = session_named(shadow);
  if (!boundary || session == nullptr || session->state() != ShadowSession::State::kAttaching) {
    release_ports(held);
    if (!boundary) return tl::unexpected(boundary.error());
    return tl::unexpected(fmt::format("shadow {} ended while waiting for an input boundary", shadow));
  }
  session->start(now_ns());
  if (auto c = connections_.find(*session->live_connection()); c != connections_.end()) c->second->held = false;  // born held
  for (auto& [id, port] : ports_) {
    if (port->is_mirror && port->session == session) link_mirror(id);
  }
  release_ports(held);
  return {};
}

void IoPlane::release_partition(const std::set<std::string>& grants) {
  std::lock_guard lock(mutex_);
  std::vector<std::uint64_t> ids;
  std::set<std::uint64_t> links;
  for (auto& [id, connection] : connections_) {
    if (connection->shadow.empty() && connection->grants && *connection->grants == grants) {
      connection->held = false;
      links.insert(id);
    }
  }
  for (const auto& [id, port] : ports_) {
    if (!port->is_mirror && port->held && links.count(port->connection) != 0) ids.push_back(id);
  }
  release_ports(ids);
}

void IoPlane::shadow_fault(const std::string& shadow, const std::string& kind, const std::string& detail) {
  std::lock_guard lock(mutex_);
  if (ShadowSession* session = session_named(shadow)) session->fault(kind, detail, now_ns());
}

void IoPlane::stop_shadow(const std::string& shadow, const std::string& why) {
  std::lock_guard lock(mutex_);
  if (ShadowSession* session = session_named(shadow)) session->stop(why);
}

void IoPlane::swap_ports(std::uint64_t a, std::uint64_t b) {
  LivePort& x = *ports_.at(a);
  LivePort& y = *ports_.at(b);
  // The epoll set knows each ring's wake fd by its port's id: both are registered again.
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, x.endpoint.wake_fd(), nullptr);
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, y.endpoint.wake_fd(), nullptr);
  std::swap(x.endpoint, y.endpoint);
  for (auto& [id, connection] : connections_) {
    for (std::uint64_t& port : connection->ports) {
      if (id == x.connection && port == a) port = b;
      else if (id == y.connection && port == b) port = a;
    }
  }
  std::swap(x.connection, y.connection);
  y.muted = false;
  const bool watched_a = watch(x.endpoint.wake_fd(), kPortBase + a);
  const bool watched_b = watch(y.endpoint.wake_fd(), kPortBase + b);
  x.endpoint.wake_self();  // each side looks at what its new ring holds
  y.endpoint.wake_self();
  if (!watched_a) cut_off(a, "host error: cannot watch the port");
  if (!watched_b) cut_off(b, "host error: cannot watch the port");
}

tl::expected<nlohmann::json, std::string> IoPlane::promote_shadow(const std::string& shadow, std::chrono::milliseconds timeout) {
  std::vector<std::uint64_t> held;
  std::vector<std::uint64_t> waited;
  {
    std::lock_guard lock(mutex_);
    ShadowSession* session = session_named(shadow);
    if (session == nullptr) return tl::unexpected(fmt::format("no shadow named {}", shadow));
    if (!session->mirroring()) {
      return tl::unexpected(fmt::format("shadow {} is {}: only a shadow being compared can be promoted", shadow,
                                        session_state_name(session->state())));
    }
    held = hold_partition_ports(*session);
    waited = held;
    const std::uint64_t now = now_ns();
    for (const auto& [live, mirror] : mirror_pairs(*session)) {
      ports_.at(mirror)->last_output_ns = now;
      waited.push_back(mirror);
    }
  }
  // 1-2. Hold the live partition's inputs; wait until both sides have read theirs and gone quiet.
  auto boundary = wait_for_boundary(waited, timeout);
  std::lock_guard lock(mutex_);
  ShadowSession* session = session_named(shadow);
  if (!boundary || session == nullptr || !session->mirroring()) {
    release_ports(held);
    if (!boundary) return tl::unexpected(boundary.error());
    return tl::unexpected(fmt::format("shadow {} stopped while waiting for an input boundary ({})", shadow,
                                      session == nullptr ? "forgotten" : session->stop_reason()));
  }
  const auto pairs = mirror_pairs(*session);
  // 3. Settle each stream: what the shadow sent beyond the live partition is released now, from the
  // live partition's place; what the live partition sent beyond the shadow is owed.
  nlohmann::json settled = nlohmann::json::object();
  shadow::Comparator& comparator = *session->comparator();
  for (const auto& [live_id, mirror_id] : pairs) {
    LivePort& live = *ports_.at(live_id);
    const auto stream = live.kind == LivePort::Kind::kNet       ? policy::OutputStream::kNetwork
                        : live.kind == LivePort::Kind::kChannel ? policy::OutputStream::kChannels
                                                                : policy::OutputStream::kSensors;
    const auto extra = comparator.take_waiting(stream, shadow::Side::kShadow);
    const auto owed = comparator.take_waiting(stream, shadow::Side::kLive);
    live.owed += owed.size();
    for (const std::vector<std::uint8_t>& record : extra) {
      if (live.kind == LivePort::Kind::kNet) {
        (void)forward_frame(live.switch_port, record);
      } else if (live.kind == LivePort::Kind::kChannel) {
        (void)route_packet(live_id, live, record);
      } else {
        std::vector<std::uint8_t> line = record;
        line.push_back('\n');
        live.feed->command(line);
      }
      if (ports_.count(live_id) == 0) break;
    }
    settled[live.name] = {{"released", extra.size()}, {"owed", owed.size()}};
  }
  // 4. Swap: the shadow's rings take the live partition's places; the old rings wait in the mirrors'.
  for (const auto& [live_id, mirror_id] : pairs) {
    if (ports_.count(live_id) == 0 || ports_.count(mirror_id) == 0) continue;
    swap_ports(live_id, mirror_id);
    // The partition's places are served by the promoted kernel's link now: a rollback holds those.
    session->set_live_connection(ports_.at(live_id)->connection);
  }
  session->set_state(ShadowSession::State::kPromoted);
  // 5. Release: the held inputs flow to the promoted kernel.
  release_ports(held);
  return nlohmann::json{{"streams", settled}};
}

tl::expected<void, std::string> IoPlane::roll_back_shadow(const std::string& shadow, std::chrono::milliseconds timeout) {
  std::vector<std::uint64_t> held;
  {
    std::lock_guard lock(mutex_);
    ShadowSession* session = session_named(shadow);
    if (session == nullptr) return tl::unexpected(fmt::format("no shadow named {}", shadow));
    if (session->state() != ShadowSession::State::kPromoted) {
      return tl::unexpected(fmt::format("shadow {} is {}, not promoted", shadow, session_state_name(session->state())));
    }
    held = hold_partition_ports(*session);
  }
  auto boundary = wait_for_boundary(held, timeout);
  std::lock_guard lock(mutex_);
  ShadowSession* session = session_named(shadow);
  if (!boundary || session == nullptr) {
    release_ports(held);
    if (!boundary) return tl::unexpected(boundary.error());
    return tl::unexpected(fmt::format("shadow {} was forgotten while waiting for an input boundary", shadow));
  }
  for (const auto& [live_id, mirror_id] : mirror_pairs(*session)) {
    ports_.at(live_id)->owed = 0;
    swap_ports(live_id, mirror_id);
    if (ports_.count(live_id) != 0) session->set_live_connection(ports_.at(live_id)->connection);
  }
  session->set_state(ShadowSession::State::kRolledBack);
  release_ports(held);
  return {};
}

void IoPlane::forget_shadow(const std::string& shadow) {
  std::lock_guard lock(mutex_);
  ShadowSession* session = session_named(shadow);
  if (session == nullptr) return;
  for (auto& [id, port] : ports_) {
    if (port->session == session) port->session = nullptr;
  }
  for (auto& [id, connection] : connections_) {
    if (connection->shadow == shadow) connection->shadow = "(forgotten) " + shadow;
  }
  shadows_.erase(shadow);
  update_timer();
}

bool IoPlane::with_shadow(const std::string& shadow, const std::function<void(ShadowSession&)>& use) {
  std::lock_guard lock(mutex_);
  ShadowSession* session = session_named(shadow);
  if (session == nullptr) return false;
  use(*session);
  return true;
}

}  // namespace tilehv::ioplane
