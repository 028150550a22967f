// L2Switch: the tile's virtual Ethernet switch: MAC learning, anti-spoofing, allow-lists, counters.
#include "ioplane/l2_switch.hpp"

#include <algorithm>

namespace tilehv::ioplane {
namespace {

constexpr std::size_t kEthernetHeader = 14;

MacAddress mac_at(std::span<const std::uint8_t> frame, std::size_t offset) {
  MacAddress mac;
  std::copy_n(frame.begin() + static_cast<std::ptrdiff_t>(offset), 6, mac.bytes.begin());
  return mac;
}

}  // namespace

const char* drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::kRunt: return "runt";
    case DropReason::kGroupSource: return "group_source";
    case DropReason::kSpoofedSource: return "spoofed_source";
    case DropReason::kDisallowed: return "disallowed";
    case DropReason::kNoRoom: return "no_room";
    case DropReason::kNoDestination: return "no_destination";
    case DropReason::kCount: break;
  }
  return "unknown";
}

std::optional<SwitchPortId> L2Switch::add_port(const SwitchPortConfig& config) {
  if (find(config.name)) return std::nullopt;
  if (!config.uplink && (config.mac.is_group() || assigned_.contains(config.mac.key()))) return std::nullopt;
  SwitchPortId id = 0;
  while (id < ports_.size() && ports_[id].present) ++id;
  if (id == ports_.size()) ports_.emplace_back();
  ports_[id] = Port{config, {}, true};
  if (!config.uplink) {
    assigned_[config.mac.key()] = id;
    // An address an uplink had been heard with now belongs to this partition.
    learned_.erase(config.mac.key());
  }
  return id;
}

void L2Switch::remove_port(SwitchPortId port) {
  if (port >= ports_.size() || !ports_[port].present) return;
  if (!ports_[port].config.uplink) assigned_.erase(ports_[port].config.mac.key());
  std::erase_if(learned_, [port](const auto& entry) { return entry.second == port; });
  ports_[port].present = false;
}

void L2Switch::set_allow_list(SwitchPortId port, AllowList allow) {
  if (port < ports_.size() && ports_[port].present) ports_[port].config.allow = std::move(allow);
}

std::optional<SwitchPortId> L2Switch::find(const std::string& name) const {
  for (SwitchPortId id = 0; id < ports_.size(); ++id) {
    if (ports_[id].present && ports_[id].config.name == name) return id;
  }
  return std::nullopt;
}

const SwitchPortCounters* L2Switch::counters(SwitchPortId port) const {
  return port < ports_.size() && ports_[port].present ? &ports_[port].counters : nullptr;
}

bool L2Switch::allowed(const Port& from, const Port& to, std::uint16_t ethertype) const {
  const auto permits = [ethertype](const AllowList& list, const std::string& peer) {
    if (list.peers && !list.peers->contains(peer)) return false;
    return list.ethertypes.empty() || list.ethertypes.contains(ethertype);
  };
  return permits(from.config.allow, to.config.name) && permits(to.config.allow, from.config.name);
}

void L2Switch::learn(std::uint64_t mac, SwitchPortId port) {
  auto [it, inserted] = learned_.try_emplace(mac, port);
  if (!inserted) {
    it->second = port;  // the address moved
    return;
  }
  learned_order_.push_back(mac);
  while (learned_order_.size() > learned_limit_) {
    learned_.erase(learned_order_.front());
    learned_order_.pop_front();
  }
}

void L2Switch::forward(SwitchPortId ingress, std::span<const std::uint8_t> frame, std::vector<SwitchPortId>& out) {
  out.clear();
  if (ingress >= ports_.size() || !ports_[ingress].present) return;
  Port& in = ports_[ingress];
  in.counters.rx_frames++;
  in.counters.rx_bytes += frame.size();
  if (frame.size() < kEthernetHeader) return count_drop(in, DropReason::kRunt);
  const MacAddress destination = mac_at(frame, 0);
  const MacAddress source = mac_at(frame, 6);
  if (source.is_group()) return count_drop(in, DropReason::kGroupSource);
  if (in.config.uplink) {
    // An uplink may not speak for a partition: those addresses are the partitions' own.
    if (assigned_.contains(source.key())) return count_drop(in, DropReason::kSpoofedSource);
    learn(source.key(), ingress);
  } else if (source != in.config.mac) {
    return count_drop(in, DropReason::kSpoofedSource);
  }
  // The policy speaks of the protocol inside a VLAN tag, not of the tag.
  std::uint16_t ethertype = static_cast<std::uint16_t>((frame[12] << 8) | frame[13]);
  if (ethertype == kEthertypeVlan && frame.size() >= kEthernetHeader + 4) {
    ethertype = static_cast<std::uint16_t>((frame[16] << 8) | frame[17]);
  }

  bool refused = false;
  const auto consider = [&](SwitchPortId egress) {
    if (egress == ingress || !ports_[egress].present) return;
    if (allowed(in, ports_[egress], ethertype)) {
      out.push_back(egress);
    } else {
      refused = true;
    }
  };
  std::optional<SwitchPortId> known;
  if (!destination.is_group()) {
    if (auto a = assigned_.find(destination.key()); a != assigned_.end()) known = a->second;
    else if (auto l = learned_.find(destination.key()); l != learned_.end()) known = l->second;
  }
  if (known) {
    consider(*known);
  } else {
    // Broadcast, multicast and unknown unicast are flooded to every port that may hear this one.
    for (SwitchPortId egress = 0; egress < ports_.size(); ++egress) consider(egress);
  }
  if (out.empty()) count_drop(in, refused ? DropReason::kDisallowed : DropReason::kNoDestination);
}

void L2Switch::delivered(SwitchPortId egress, std::size_t bytes) {
  if (egress >= ports_.size() || !ports_[egress].present) return;
  ports_[egress].counters.tx_frames++;
  ports_[egress].counters.tx_bytes += bytes;
}

void L2Switch::no_room(SwitchPortId egress) {
  if (egress < ports_.size() && ports_[egress].present) count_drop(ports_[egress], DropReason::kNoRoom);
}

}  // namespace tilehv::ioplane
