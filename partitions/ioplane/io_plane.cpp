// IoPlane: hands VMMs their ports over plane links and moves frames through the L2 switch.
#include "ioplane/io_plane.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "port/fd_passing.hpp"
#include "port/plane_link.hpp"
#include "vsock/virtio_vsock.hpp"
#include "util/errno_text.hpp"

namespace tilehv::ioplane {
namespace {

// epoll tokens: small constants, then connections and ports in their own ranges.
constexpr std::uint64_t kStopToken = 1;
constexpr std::uint64_t kListenToken = 2;
constexpr std::uint64_t kTimerToken = 3;
// Sensors are paced in steps of this much real time: their samples carry virtual timestamps, so the
// step only sets how fresh a sample is when it reaches the guest.
constexpr long kSensorTickNs = 10'000'000;
constexpr std::uint64_t kConnectionBase = 1ULL << 32;

void log_line(const std::string& line) {
  try {
    fmt::print(stderr, "tilehv-plane: {}\n", line);
  } catch (...) {
  }
}

}  // namespace

IoPlane::IoPlane(PlaneConfig config) : config_(std::move(config)), router_(config_.channels) {}

tl::expected<std::unique_ptr<IoPlane>, std::string> IoPlane::create(PlaneConfig config) {
  std::unique_ptr<IoPlane> plane(new IoPlane(std::move(config)));
  plane->frame_.resize(std::max(plane->config_.ring.max_message, vdevices::VirtioVsock::kPortConfig.max_message));
  auto host = HostChannel::create();
  auto host_endpoint = plane->router_.add_host_endpoint();
  if (!host || !host_endpoint) return tl::unexpected(std::string("cannot create the host's channel endpoint"));
  plane->host_.emplace(std::move(*host));
  plane->host_endpoint_ = *host_endpoint;
  if (auto started = plane->start(); !started) return tl::unexpected(started.error());
  {
    std::lock_guard lock(plane->mutex_);
    if (auto uplink = plane->configure_uplink(plane->config_.uplink, plane->config_.net_ports); !uplink) {
      return tl::unexpected(uplink.error());
    }
  }
  return plane;
}

tl::expected<void, std::string> IoPlane::start() {
  epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) return tl::unexpected("epoll_create1: " + util::errno_text(errno));
  stop_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_) return tl::unexpected("eventfd: " + util::errno_text(errno));
  if (!watch(stop_.get(), kStopToken)) return tl::unexpected("epoll_ctl: " + util::errno_text(errno));
  timer_.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!timer_) return tl::unexpected("timerfd_create: " + util::errno_text(errno));
  if (!watch(timer_.get(), kTimerToken)) return tl::unexpected("epoll_ctl: " + util::errno_text(errno));
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    return tl::unexpected(std::string("cannot start the I/O plane thread: ") + e.what());
  }
  return {};
}

IoPlane::~IoPlane() {
  if (thread_.joinable()) {
    const std::uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof one);
    thread_.join();
  }
}

bool IoPlane::watch(int fd, std::uint64_t token) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = token;
  return ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) == 0;
}

tl::expected<void, std::string> IoPlane::listen(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    return tl::unexpected(fmt::format("socket path '{}' is empty or longer than {} bytes", path, sizeof address.sun_path - 1));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  util::UniqueFd socket(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!socket) return tl::unexpected("socket: " + util::errno_text(errno));
  ::unlink(path.c_str());
  if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return tl::unexpected(fmt::format("bind {}: {}", path, util::errno_text(errno)));
  }
  if (::listen(socket.get(), 64) != 0) return tl::unexpected("listen: " + util::errno_text(errno));
  std::lock_guard lock(mutex_);
  if (listener_) return tl::unexpected(std::string("the I/O plane already listens"));
  if (!watch(socket.get(), kListenToken)) return tl::unexpected("epoll_ctl: " + util::errno_text(errno));
  listener_ = std::move(socket);
  return {};
}

tl::expected<util::UniqueFd, std::string> IoPlane::open_link() { return open_link_for(std::nullopt, {}); }

tl::expected<util::UniqueFd, std::string> IoPlane::open_link(std::set<std::string> grants) {
  return open_link_for(std::move(grants), {});
}

tl::expected<util::UniqueFd, std::string> IoPlane::open_link(std::set<std::string> grants, SensorRateBounds rates, bool held) {
  return open_link_for(std::move(grants), std::move(rates), held);
}

tl::expected<util::UniqueFd, std::string> IoPlane::open_link_for(std::optional<std::set<std::string>> grants,
                                                                 SensorRateBounds rates, bool held) {
  auto ends = link_pair();
  if (!ends) return tl::unexpected(ends.error());
  std::lock_guard lock(mutex_);
  add_connection(std::move(ends->first), std::move(grants), std::move(rates), held);
  return std::move(ends->second);
}

tl::expected<std::pair<util::UniqueFd, util::UniqueFd>, std::string> IoPlane::link_pair() {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return tl::unexpected("socketpair: " + util::errno_text(errno));
  }
  return std::pair<util::UniqueFd, util::UniqueFd>{util::UniqueFd(pair[0]), util::UniqueFd(pair[1])};
}

std::optional<std::uint64_t> IoPlane::add_connection(util::UniqueFd socket, std::optional<std::set<std::string>> grants,
                                                     SensorRateBounds rates, bool held) {
  const std::uint64_t id = next_id_++;
  if (!watch(socket.get(), kConnectionBase + id)) {
    log_line("cannot watch a plane link: " + util::errno_text(errno));
    return std::nullopt;
  }
  auto connection = std::make_unique<Connection>();
  connection->socket = std::move(socket);
  connection->grants = std::move(grants);
  connection->rates = std::move(rates);
  connection->held = held;
  connections_.emplace(id, std::move(connection));
  metrics_.links_accepted.fetch_add(1, std::memory_order_relaxed);
  return id;
}

void IoPlane::run() noexcept {
  epoll_event events[32];
  for (;;) {
    const int n = ::epoll_wait(epoll_.get(), events, 32, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      log_line("epoll_wait: " + util::errno_text(errno));
      return;
    }
    std::lock_guard lock(mutex_);
    for (int i = 0; i < n; ++i) {
      const std::uint64_t token = events[i].data.u64;
      if (token == kStopToken) return;
      if (token == kTimerToken) {
        tick();
      } else if (token == kUplinkToken) {
        serve_uplink();
      } else if (token == kListenToken) {
        util::UniqueFd accepted(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (accepted) add_connection(std::move(accepted), std::nullopt, {});
      } else if (token >= kPortBase) {
        serve_port(token - kPortBase);
      } else if (token >= kConnectionBase) {
        serve_connection(token - kConnectionBase);
      }
    }
  }
}

void IoPlane::serve_connection(std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& connection = *it->second;
  auto message = vdevices::port::receive_message(connection.socket.get(), vdevices::port::kMaxLinkMessage);
  if (!message || (message->bytes.empty() && message->fds.empty())) {
    // The VMM went away (or broke its link): its ports go with it.
    close_connection(id);
    return;
  }
  auto parsed = vdevices::port::parse_link_message(message->bytes);
  if (!parsed) {
    metrics_.requests_refused.fetch_add(1, std::memory_order_relaxed);
    (void)vdevices::port::refuse_port(connection.socket.get(), {"unknown", "unknown"}, parsed.error());
    return;
  }
  if (parsed->op == vdevices::port::LinkMessage::Op::kRequest) {
    grant(connection, id, parsed->port);
  } else {
    reattach(connection, id, parsed->port, std::move(message->fds));
  }
}

tl::expected<IoPlane::Admission, std::string> IoPlane::admit(const Connection& connection,
                                                             const vdevices::port::PortRequest& request) {
  if (connection.grants && connection.grants->count(request.kind + ":" + request.name) == 0) {
    return tl::unexpected(std::string("the partition's policy does not give it this port"));
  }
  Admission a;
  a.ring = config_.ring;
  const bool mirror = !connection.shadow.empty();
  if (mirror) {
    // A shadow's VMM asks for its live partition's ports; it gets each once, as a mirror.
    for (const auto& [other_id, other] : ports_) {
      if (other->is_mirror && other->connection != 0 && other->name == request.name &&
          connections_.count(other->connection) != 0 && connections_.at(other->connection)->shadow == connection.shadow) {
        return tl::unexpected(std::string("the shadow already holds this port"));
      }
    }
  }
  if (request.kind == "net") {
    for (const PlaneNetPort& p : config_.net_ports) {
      if (p.name == request.name) a.net = &p;
    }
    if (a.net == nullptr) return tl::unexpected(std::string("no such port in the tile's configuration"));
    if (!mirror && switch_.find(a.net->name)) return tl::unexpected(std::string("the port is already held by another VMM"));
    a.attributes = {{"mac", a.net->mac.text()}, {"mtu", std::to_string(a.net->mtu)}};
  } else if (request.kind == "vsock") {
    for (const PlaneVsockPort& p : config_.vsock_ports) {
      if (p.name == request.name) a.channel = &p;
    }
    if (a.channel == nullptr) return tl::unexpected(std::string("no such port in the tile's configuration"));
    if (!mirror && router_.find(a.channel->name)) return tl::unexpected(std::string("the port is already held by another VMM"));
    a.attributes = {{"cid", std::to_string(a.channel->cid)}};
    a.ring = vdevices::VirtioVsock::kPortConfig;
  } else if (request.kind == "console") {
    const PlaneSensor* sensor = nullptr;
    for (const PlaneSensor& p : config_.sensors) {
      if ("sensor." + p.spec.name == request.name) sensor = &p;
    }
    if (sensor == nullptr) return tl::unexpected(std::string("no such console port in the tile's configuration"));
    if (mirror) return a;  // fed with the live partition's stream, not by a feed of its own
    for (const auto& [other_id, other] : ports_) {
      if (other->kind == LivePort::Kind::kSensor && other->name == request.name && !sensor->shared) {
        return tl::unexpected(std::string("the port is already held by another VMM"));
      }
    }
    const auto bounds = connection.rates.find(request.name);
    auto created_feed = SensorFeed::create(*sensor, bounds == connection.rates.end() ? std::nullopt
                                                                                    : std::optional<RateBoundsMhz>(bounds->second));
    if (!created_feed) return tl::unexpected("sensor unavailable: " + created_feed.error());
    a.feed = std::move(*created_feed);
  } else {
    return tl::unexpected(fmt::format("this plane serves no {} ports", request.kind));
  }
  return a;
}

tl::expected<std::uint64_t, std::string> IoPlane::install(Connection& connection, std::uint64_t connection_id,
                                                          const vdevices::port::PortRequest& request, Admission& admission,
                                                          vdevices::port::PortEndpoint endpoint) {
  SwitchPortId switch_port = 0;
  EndpointId endpoint_id = 0;
  const bool mirror = !connection.shadow.empty();
  if (mirror) {
    // Neither on the switch nor on the router: what the shadow sends goes to its comparator.
  } else if (admission.net != nullptr) {
    auto added = switch_.add_port(SwitchPortConfig{admission.net->name, admission.net->mac, false, admission.net->allow});
    if (!added) return tl::unexpected(std::string("its MAC address is already in use on the switch"));
    switch_port = *added;
  } else if (admission.channel != nullptr) {
    auto added = router_.add_endpoint(admission.channel->name, admission.channel->cid);
    if (!added) return tl::unexpected(std::string("its CID is reserved or already in use"));
    endpoint_id = *added;
  }
  const std::uint64_t port_id = next_id_++;
  const auto kind = admission.net != nullptr       ? LivePort::Kind::kNet
                    : admission.channel != nullptr ? LivePort::Kind::kChannel
                                                   : LivePort::Kind::kSensor;
  auto live = std::make_unique<LivePort>(LivePort{connection_id, kind, switch_port, endpoint_id, request.name,
                                                  std::move(endpoint), std::move(admission.feed), std::chrono::steady_clock::now()});
  if (mirror) {
    live->is_mirror = true;
    live->session = session_named(connection.shadow);
  } else if (connection.held) {
    live->held = true;
  }
  if (traffic_held_) {
    unwatched_ports_.push_back(port_id);
  } else if (!watch(live->endpoint.wake_fd(), kPortBase + port_id)) {
    if (!mirror && admission.net != nullptr) switch_.remove_port(switch_port);
    if (!mirror && admission.channel != nullptr) router_.remove_endpoint(endpoint_id);
    return tl::unexpected(std::string("host error: cannot watch the port"));
  }
  connection.ports.push_back(port_id);
  if (!mirror && admission.net != nullptr) port_of_switch_port_[switch_port] = port_id;
  if (!mirror && admission.channel != nullptr) port_of_endpoint_[endpoint_id] = port_id;
  ports_.emplace(port_id, std::move(live));
  if (mirror) {
    link_mirror(port_id);
  }
  update_timer();
  return port_id;
}

void IoPlane::grant(Connection& connection, std::uint64_t connection_id, const vdevices::port::PortRequest& request) {
  const auto refuse = [&](const std::string& reason) {
    metrics_.requests_refused.fetch_add(1, std::memory_order_relaxed);
    (void)vdevices::port::refuse_port(connection.socket.get(), request, reason);
  };
  auto admission = admit(connection, request);
  if (!admission) return refuse(admission.error());
  auto created = vdevices::port::PortEndpoint::create(admission->ring);
  if (!created) return refuse("host error: " + created.error());
  const std::map<std::string, std::string> attributes = admission->attributes;
  auto port_id = install(connection, connection_id, request, *admission, std::move(created->plane));
  if (!port_id) return refuse(port_id.error());
  if (auto granted = vdevices::port::grant_port(connection.socket.get(), request, created->device, attributes); !granted) {
    log_line(fmt::format("cannot grant port {}: {}", request.name, granted.error()));
    std::erase(connection.ports, *port_id);
    remove_port(*port_id);
    return;
  }
  // The plane sleeps on the port from now on: tell the device side to wake it.
  LivePort& live = *ports_.at(*port_id);
  if (!live.endpoint.prepare_to_sleep()) live.endpoint.wake_self();
}

void IoPlane::reattach(Connection& connection, std::uint64_t connection_id, const vdevices::port::PortRequest& request,
                       std::vector<util::UniqueFd> fds) {
  const auto refuse = [&](const std::string& reason) {
    metrics_.requests_refused.fetch_add(1, std::memory_order_relaxed);
    (void)vdevices::port::refuse_port(connection.socket.get(), request, reason);
  };
  if (fds.size() != 3) return refuse(fmt::format("a port is handed back with 3 descriptors, not {}", fds.size()));
  auto admission = admit(connection, request);
  if (!admission) return refuse(admission.error());
  auto endpoint = vdevices::port::PortEndpoint::reclaim(
      vdevices::port::PortFds{std::move(fds[0]), std::move(fds[1]), std::move(fds[2])}, admission->ring);
  if (!endpoint) return refuse(endpoint.error());
  auto port_id = install(connection, connection_id, request, *admission, std::move(*endpoint));
  if (!port_id) return refuse(port_id.error());
  if (auto confirmed = vdevices::port::confirm_reattach(connection.socket.get(), request); !confirmed) {
    log_line(fmt::format("cannot confirm port {}: {}", request.name, confirmed.error()));
    std::erase(connection.ports, *port_id);
    remove_port(*port_id);
    return;
  }
  metrics_.ports_reattached.fetch_add(1, std::memory_order_relaxed);
  // Both sides look at the rings again: what arrived while no plane ran, and room freed meanwhile.
  LivePort& live = *ports_.at(*port_id);
  live.endpoint.wake_self();
  live.endpoint.wake_peer();
}

void IoPlane::hold_traffic() {
  std::lock_guard lock(mutex_);
  traffic_held_ = true;
  // The host's frames wait in the TAP's queue meanwhile, rather than flooding past partitions
  // whose ports are not back yet.
  watch_uplink(false);
}

void IoPlane::release_traffic() {
  std::lock_guard lock(mutex_);
  if (!traffic_held_) return;
  traffic_held_ = false;
  for (std::uint64_t id : unwatched_ports_) {
    auto p = ports_.find(id);
    if (p == ports_.end()) continue;
    if (!watch(p->second->endpoint.wake_fd(), kPortBase + id)) {
      cut_off(id, "host error: cannot watch the port");
      continue;
    }
    p->second->endpoint.wake_self();  // what queued up meanwhile is served on the plane's next turn
  }
  unwatched_ports_.clear();
  watch_uplink(true);
}

void IoPlane::close_connection(std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  for (std::uint64_t port_id : it->second->ports) remove_port(port_id);
  connections_.erase(it);  // closes the socket
}

void IoPlane::remove_port(std::uint64_t port_id) {
  auto p = ports_.find(port_id);
  if (p == ports_.end()) return;
  if (p->second->is_mirror) {
    for (auto& [id, other] : ports_) {
      if (other->mirror == port_id) other->mirror.reset();
    }
    ports_.erase(p);
    update_timer();
    return;
  }
  if (p->second->mirror) {
    auto m = ports_.find(*p->second->mirror);
    ShadowSession* session = m != ports_.end() ? m->second->session : nullptr;
    if (session != nullptr && session->state() == ShadowSession::State::kPromoted &&
        session->spec().action == policy::ShadowAction::kAutoRollback) {
      // A promoted kernel on probation went away: its previous kernel's rings take the port back
      // at once (the daemon resumes that kernel), and the dead rings go with the mirror.
      const std::uint64_t mirror_id = m->first;
      p->second->owed = 0;
      swap_ports(port_id, mirror_id);
      session->set_state(ShadowSession::State::kRolledBack);
      remove_port(mirror_id);
      return;
    }
    if (session != nullptr) {
      session->stop(fmt::format("the live partition's port {} went away (its VMM ended)", p->second->name));
    }
  }
  if (p->second->kind == LivePort::Kind::kSensor) {
    retired_sensors_[p->second->name] = p->second->feed->metrics();
  } else if (p->second->kind == LivePort::Kind::kChannel) {
    if (const EndpointCounters* last = router_.counters(p->second->endpoint_id)) retired_channels_[p->second->name] = *last;
    router_.remove_endpoint(p->second->endpoint_id);
    port_of_endpoint_.erase(p->second->endpoint_id);
  } else {
    if (const SwitchPortCounters* last = switch_.counters(p->second->switch_port)) retired_[p->second->name] = *last;
    switch_.remove_port(p->second->switch_port);
    port_of_switch_port_.erase(p->second->switch_port);
  }
  ports_.erase(p);  // closing the wake fd removes it from the epoll set
  update_timer();
}

void IoPlane::update_timer() {
  // Sensors are paced by the timer, and the host's channel end measures its timeouts in its ticks;
  // with neither attached an idle tile does not wake for nothing.
  bool needed = false;
  for (const auto& [id, port] : ports_) needed = needed || port->kind != LivePort::Kind::kNet;
  needed = needed || !shadows_.empty();  // the shadows' watchdogs
  if (needed == timer_armed_) return;
  const itimerspec every{{0, kSensorTickNs}, {0, kSensorTickNs}};
  const itimerspec stop{};
  ::timerfd_settime(timer_.get(), 0, needed ? &every : &stop, nullptr);
  timer_armed_ = needed;
}

void IoPlane::cut_off(std::uint64_t port_id, const std::string& why) {
  auto p = ports_.find(port_id);
  if (p == ports_.end()) return;
  log_line(fmt::format("port {} cut off: {}", p->second->name, why));
  metrics_.ports_cut_off.fetch_add(1, std::memory_order_relaxed);
  auto c = connections_.find(p->second->connection);
  if (c != connections_.end()) std::erase(c->second->ports, port_id);
  remove_port(port_id);
}

void IoPlane::serve_port(std::uint64_t id) {
  auto it = ports_.find(id);
  if (it == ports_.end()) return;
  LivePort& in = *it->second;
  in.endpoint.consume_wake();
  if (in.is_mirror) return serve_mirror(id, in);
  if (in.kind == LivePort::Kind::kSensor) return serve_sensor(id, in);
  for (int turn = 0; turn < kFramesPerTurn; ++turn) {
    // The message is copied out of the shared ring before any decision: the VMM cannot change it
    // between the check of its source and its delivery.
    auto got = in.endpoint.receive(frame_);
    if (!got) return cut_off(id, got.error().message);
    if (!got->has_value()) {
      if (in.endpoint.prepare_to_sleep()) return;
      continue;
    }
    const std::span<const std::uint8_t> message(frame_.data(), **got);
    if (in.mirror || in.held) record_live_output(in, message);
    if (in.owed > 0) {
      // Sent by the shadow before its promotion: the partition's twin of it is not sent again.
      --in.owed;
      continue;
    }
    if (in.kind == LivePort::Kind::kChannel ? !route_packet(id, in, message) : !forward_frame(in.switch_port, message)) return;
  }
  // Let the other ports have a turn; come back through the epoll set.
  const std::uint64_t one = 1;
  (void)!::write(in.endpoint.wake_fd(), &one, sizeof one);
}

bool IoPlane::forward_frame(SwitchPortId in, std::span<const std::uint8_t> frame) {
  switch_.forward(in, frame, egress_);
  for (SwitchPortId egress : egress_) {
    if (uplink_ && egress == uplink_->port) {
      send_to_uplink(frame);
      continue;
    }
    auto other_id = port_of_switch_port_.find(egress);
    if (other_id == port_of_switch_port_.end()) continue;
    auto sent = deliver(*ports_.at(other_id->second), frame);
    if (!sent) {
      cut_off(other_id->second, sent.error().message);
    } else if (*sent == vdevices::port::PushResult::kPushed) {
      switch_.delivered(egress, frame.size());
    } else {
      switch_.no_room(egress);
    }
  }
  return true;
}

bool IoPlane::route_packet(std::uint64_t id, LivePort& in, std::span<const std::uint8_t> packet) {
  const RouteDecision decision = router_.route(in.endpoint_id, packet);
  if (decision.kind == RouteDecision::Kind::kDrop) return true;
  if (decision.kind == RouteDecision::Kind::kReset) {
    // Refused: the sender learns it at once, as from a host with nothing listening on that port.
    const vdevices::vsock::PacketHeader reset = vdevices::vsock::reset_for(vdevices::vsock::read_header(packet));
    auto sent = deliver(in, {reinterpret_cast<const std::uint8_t*>(&reset), sizeof reset});
    if (!sent) {
      cut_off(id, sent.error().message);
      return false;
    }
    return true;
  }
  if (decision.to == host_endpoint_) {
    router_.delivered(decision.to);
    host_->receive(packet);
    flush_host_channel();
    return true;
  }
  auto other_id = port_of_endpoint_.find(decision.to);
  if (other_id == port_of_endpoint_.end()) return true;
  auto sent = deliver(*ports_.at(other_id->second), packet);
  if (!sent) {
    cut_off(other_id->second, sent.error().message);
  } else if (*sent == vdevices::port::PushResult::kPushed) {
    router_.delivered(decision.to);
  } else {
    router_.no_room(decision.to);
  }
  return true;
}

void IoPlane::serve_sensor(std::uint64_t id, LivePort& port) {
  if (port.held) return;  // its inputs wait for the boundary to pass; so do its commands
  const auto now = std::chrono::steady_clock::now() - port.epoch;
  const auto virtual_ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
  if (port.mirror) {
    // What the partition reads is mirrored to its shadow; what it writes goes to the comparator.
    const FeedObserver observer{[&](std::span<const std::uint8_t> bytes) { mirror_input(port, bytes); },
                                [&](std::span<const std::uint8_t> bytes) { record_live_output(port, bytes); }};
    if (auto served = port.feed->take_input(port.endpoint, virtual_ns, &observer); !served) return cut_off(id, served.error());
  } else if (auto served = port.feed->take_input(port.endpoint, virtual_ns); !served) {
    return cut_off(id, served.error());
  }
  // Sleep on the port again: the guest's next command, or room for the stream, wakes the plane.
  (void)port.endpoint.prepare_to_sleep();
}

void IoPlane::tick() {
  std::uint64_t expirations = 0;
  (void)!::read(timer_.get(), &expirations, sizeof expirations);
  std::vector<std::uint64_t> sensors;
  for (const auto& [id, port] : ports_) {
    if (port->kind == LivePort::Kind::kSensor && !port->is_mirror && !traffic_held_) sensors.push_back(id);
  }
  for (std::uint64_t id : sensors) {
    // Serving one may cut another's mirror off, never another sensor: look each up again all the same.
    if (auto p = ports_.find(id); p != ports_.end()) serve_sensor(id, *p->second);
  }
  tick_shadows();
  host_->tick();
  flush_host_channel();
}

}  // namespace tilehv::ioplane
