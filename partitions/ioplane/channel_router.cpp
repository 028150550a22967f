// ChannelRouter: vsock packets between partitions, only along declared channels.
#include "ioplane/channel_router.hpp"

namespace tilehv::ioplane {

namespace vsock = vdevices::vsock;

std::optional<EndpointId> ChannelRouter::add_endpoint(const std::string& name, std::uint64_t cid) {
  if (cid < vsock::kFirstGuestCid || cid > 0xffff'fffeULL || by_cid_.contains(cid) || find(name)) return std::nullopt;
  EndpointId id = 0;
  while (id < endpoints_.size() && endpoints_[id].present) ++id;
  if (id == endpoints_.size()) endpoints_.emplace_back();
  endpoints_[id] = Endpoint{name, cid, {}, true};
  by_cid_[cid] = id;
  return id;
}

std::optional<EndpointId> ChannelRouter::add_host_endpoint() {
  if (by_cid_.contains(vsock::kHostCid) || find(kHostName)) return std::nullopt;
  EndpointId id = 0;
  while (id < endpoints_.size() && endpoints_[id].present) ++id;
  if (id == endpoints_.size()) endpoints_.emplace_back();
  endpoints_[id] = Endpoint{kHostName, vsock::kHostCid, {}, true};
  by_cid_[vsock::kHostCid] = id;
  return id;
}

void ChannelRouter::remove_endpoint(EndpointId endpoint) {
  if (endpoint >= endpoints_.size() || !endpoints_[endpoint].present) return;
  by_cid_.erase(endpoints_[endpoint].cid);
  endpoints_[endpoint].present = false;
}

std::optional<EndpointId> ChannelRouter::find(const std::string& name) const {
  for (EndpointId id = 0; id < endpoints_.size(); ++id) {
    if (endpoints_[id].present && endpoints_[id].name == name) return id;
  }
  return std::nullopt;
}

const EndpointCounters* ChannelRouter::counters(EndpointId endpoint) const {
  return endpoint < endpoints_.size() && endpoints_[endpoint].present ? &endpoints_[endpoint].counters : nullptr;
}

bool ChannelRouter::declared(const Endpoint& from, const Endpoint& to, const vsock::PacketHeader& h) const {
  for (const ChannelDeclaration& c : channels_) {
    if (c.client == from.name && c.server == to.name && c.server_port == h.dst_port) return true;  // client to server
    if (c.client == to.name && c.server == from.name && c.server_port == h.src_port) return true;  // server to client
  }
  return false;
}

RouteDecision ChannelRouter::route(EndpointId from, std::span<const std::uint8_t> packet) {
  if (from >= endpoints_.size() || !endpoints_[from].present) return {};
  Endpoint& in = endpoints_[from];
  ++in.counters.packets_in;
  if (vsock::check_packet(packet)) {
    ++in.counters.malformed;
    return {};
  }
  const vsock::PacketHeader h = vsock::read_header(packet);
  if (h.src_cid != in.cid) {
    ++in.counters.spoofed;
    return {};
  }
  const bool is_reset = h.op == static_cast<std::uint16_t>(vsock::Op::kRst);
  auto to = by_cid_.find(h.dst_cid);
  if (to == by_cid_.end()) {
    ++in.counters.no_destination;
    return {is_reset ? RouteDecision::Kind::kDrop : RouteDecision::Kind::kReset, from};
  }
  if (!declared(in, endpoints_[to->second], h)) {
    ++in.counters.refused;
    return {is_reset ? RouteDecision::Kind::kDrop : RouteDecision::Kind::kReset, from};
  }
  return {RouteDecision::Kind::kDeliver, to->second};
}

void ChannelRouter::delivered(EndpointId to) {
  if (to < endpoints_.size() && endpoints_[to].present) ++endpoints_[to].counters.packets_out;
}

void ChannelRouter::no_room(EndpointId to) {
  if (to < endpoints_.size() && endpoints_[to].present) ++endpoints_[to].counters.no_room;
}

}  // namespace tilehv::ioplane
