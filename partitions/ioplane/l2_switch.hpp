// L2Switch: the tile's virtual Ethernet switch (the forwarding decision only; IoPlane moves frames).
//
// Every partition port has the MAC address the tile assigned it, and a frame whose source is anything
// else is dropped as spoofed. An uplink port (a TAP or another tile) may carry many addresses; the
// switch learns them, bounded, but never lets an uplink claim an address assigned to a partition.
// A per-port allow-list, driven by the tile's policy, decides which ports may talk to each other;
// a frame passes only if both ends allow it. Every drop is counted by reason.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/mac_address.hpp"

namespace tilehv::ioplane {

using vdevices::MacAddress;
using SwitchPortId = std::uint32_t;

// Who a port may exchange frames with: nullopt peers = any port; empty ethertypes = any protocol.
struct AllowList {
  std::optional<std::set<std::string>> peers;
  std::set<std::uint16_t> ethertypes;
};

struct SwitchPortConfig {
  std::string name;
  MacAddress mac;       // the assigned address (ignored for an uplink)
  bool uplink = false;  // carries learned addresses instead of one assigned address
  AllowList allow;
};

enum class DropReason : std::uint8_t {
  kRunt,           // shorter than an Ethernet header
  kGroupSource,    // a multicast or broadcast source address
  kSpoofedSource,  // a source address the port does not own
  kDisallowed,     // the allow-lists of the two ends do not permit it
  kNoRoom,         // the destination port's ring was full
  kNoDestination,  // no other port was there to receive it
  kCount
};
[[nodiscard]] const char* drop_reason_name(DropReason reason);

struct SwitchPortCounters {
  std::uint64_t rx_frames = 0, rx_bytes = 0;  // entered the switch at this port
  std::uint64_t tx_frames = 0, tx_bytes = 0;  // left the switch through this port
  std::array<std::uint64_t, static_cast<std::size_t>(DropReason::kCount)> drops{};
  [[nodiscard]] std::uint64_t dropped(DropReason r) const { return drops[static_cast<std::size_t>(r)]; }
};

class L2Switch {
 public:
  static constexpr std::size_t kDefaultLearnedLimit = 4096;
  static constexpr std::uint16_t kEthertypeVlan = 0x8100;

  explicit L2Switch(std::size_t learned_limit = kDefaultLearnedLimit) : learned_limit_(learned_limit) {}

  // False if the name or the assigned address is already taken.
  [[nodiscard]] std::optional<SwitchPortId> add_port(const SwitchPortConfig& config);
  void remove_port(SwitchPortId port);
  void set_allow_list(SwitchPortId port, AllowList allow);

  // Where a frame entering at `ingress` goes; `out` receives the egress ports (none: dropped, and
  // counted on the ingress port).
  void forward(SwitchPortId ingress, std::span<const std::uint8_t> frame, std::vector<SwitchPortId>& out);
  // The mover reports what happened at each egress.
  void delivered(SwitchPortId egress, std::size_t bytes);
  void no_room(SwitchPortId egress);

  [[nodiscard]] const SwitchPortCounters* counters(SwitchPortId port) const;
  [[nodiscard]] std::optional<SwitchPortId> find(const std::string& name) const;
  [[nodiscard]] std::size_t learned_addresses() const noexcept { return learned_order_.size(); }

 private:
  struct Port {
    SwitchPortConfig config;
    SwitchPortCounters counters;
    bool present = false;
  };
  [[nodiscard]] bool allowed(const Port& from, const Port& to, std::uint16_t ethertype) const;
  void learn(std::uint64_t mac, SwitchPortId port);
  void count_drop(Port& port, DropReason reason) { ++port.counters.drops[static_cast<std::size_t>(reason)]; }

  std::vector<Port> ports_;
  std::unordered_map<std::uint64_t, SwitchPortId> assigned_;  // MAC -> partition port
  std::unordered_map<std::uint64_t, SwitchPortId> learned_;   // MAC -> uplink port
  std::deque<std::uint64_t> learned_order_;                   // oldest first, for eviction
  std::size_t learned_limit_;
};

}  // namespace tilehv::ioplane
