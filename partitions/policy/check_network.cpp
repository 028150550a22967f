// The network check: addresses the switch can enforce, MTUs its ports carry, allow-lists naming peers.
#include <map>

#include "net/mac_address.hpp"
#include "policy/check_support.hpp"
#include "policy/checks.hpp"

namespace tilehv::policy::detail {
namespace {

constexpr std::string_view kCheck = "network";

void check_mac(const Policy& policy, std::vector<Diagnostic>& findings, std::size_t index,
               std::map<std::uint64_t, std::size_t>& owners) {
  const NetworkAttachment& network = *policy.partitions[index].network;
  const std::string path = partition_path(index) + ".devices.network.mac";
  if (!network.mac || malformed(policy, path)) return;
  const auto mac = vdevices::MacAddress::parse(*network.mac);
  if (!mac) {
    report(policy, findings, path, as_written(*network.mac), "a MAC address such as \"02:00:00:00:00:01\"", kCheck);
    return;
  }
  // The switch drops frames from group sources and the all-zero address is nobody's.
  if (mac->is_group() || mac->key() == 0) {
    report(policy, findings, path, as_written(*network.mac),
           "a unicast address (first byte even, not all zero), such as \"02:00:00:00:00:01\"", kCheck);
    return;
  }
  const auto [owner, inserted] = owners.emplace(mac->key(), index);
  if (!inserted) {
    report(policy, findings, path,
           fmt::format("{}, the address of {} ({}) too", as_written(*network.mac),
                       as_written(policy.partitions[owner->second].name), partition_path(owner->second)),
           "an address no other partition has", kCheck);
  }
}

void check_peers(const Policy& policy, std::vector<Diagnostic>& findings, std::size_t index) {
  const NetworkAttachment& network = *policy.partitions[index].network;
  const std::string path = partition_path(index) + ".devices.network.allowPeers";
  if (!network.allow_peers || malformed(policy, path)) return;
  for (std::size_t k = 0; k < network.allow_peers->size(); ++k) {
    const std::string& peer = (*network.allow_peers)[k];
    const std::string peer_path = fmt::format("{}[{}]", path, k);
    if (malformed(policy, peer_path)) continue;
    if (peer == "uplink") {
      if (!policy.tile.uplink_tap) {
        report(policy, findings, peer_path, as_written(peer), "a partition name (the tile has no uplink)", kCheck);
      }
      continue;
    }
    const Partition* other = policy.find(peer);
    if (other == nullptr && !partition_names_known(policy)) continue;
    if (other == nullptr || peer.empty()) {
      report(policy, findings, peer_path, as_written(peer), "the name of a partition, or \"uplink\"", kCheck);
    } else if (!other->network) {
      report(policy, findings, peer_path, fmt::format("{}, which has no network device", as_written(peer)),
             "a partition with a network device", kCheck);
    }
  }
}

}  // namespace

void check_network(const Policy& policy, std::vector<Diagnostic>& findings) {
  std::map<std::uint64_t, std::size_t> owners;
  for (std::size_t i = 0; i < policy.partitions.size(); ++i) {
    if (!policy.partitions[i].network) continue;
    check_mac(policy, findings, i, owners);
    const std::string mtu_path = partition_path(i) + ".devices.network.mtu";
    const std::uint32_t mtu = policy.partitions[i].network->mtu;
    if (!malformed(policy, mtu_path) && (mtu < kMinMtu || mtu > kMaxMtu)) {
      report(policy, findings, mtu_path, fmt::format("{}", mtu),
             fmt::format("an MTU from {} to {}", kMinMtu, kMaxMtu), kCheck);
    }
    check_peers(policy, findings, i);
  }
}

}  // namespace tilehv::policy::detail
