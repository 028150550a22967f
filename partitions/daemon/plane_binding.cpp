// PlaneBinding: see plane_binding.hpp.
#include "daemon/plane_binding.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "sensors/sensor_model.hpp"

namespace tilehv::daemon {
namespace {

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) hash = (hash ^ c) * 0x100000001b3ULL;
  return hash;
}

ioplane::AllowList allow_list(const policy::NetworkAttachment& net) {
  ioplane::AllowList allow;
  if (net.allow_peers) allow.peers = std::set<std::string>(net.allow_peers->begin(), net.allow_peers->end());
  allow.ethertypes = std::set<std::uint16_t>(net.allow_ethertypes.begin(), net.allow_ethertypes.end());
  return allow;
}

}  // namespace

vdevices::MacAddress derived_mac(const std::string& partition) {
  // 02:74:68 ("th", locally administered, unicast), then 24 bits of the name's hash.
  const std::uint64_t h = fnv1a(partition);
  vdevices::MacAddress mac;
  mac.bytes = {0x02, 0x74, 0x68, static_cast<std::uint8_t>(h >> 16), static_cast<std::uint8_t>(h >> 8),
               static_cast<std::uint8_t>(h)};
  return mac;
}

std::uint64_t derived_cid(const std::string& partition) {
  // CIDs 0-2 are reserved and the guest SDK keeps CIDs in 32 bits.
  return 3 + fnv1a(partition) % 0x7fff'0000ULL;
}

tl::expected<PlaneBinding, std::string> bind_plane(const policy::Policy& policy) {
  PlaneBinding binding;
  std::map<std::string, std::string> owner_of_mac;
  std::map<std::uint64_t, std::string> owner_of_cid;
  std::set<std::string> in_channels;
  for (const policy::ChannelDecl& c : policy.channels) {
    in_channels.insert(c.client);
    in_channels.insert(c.server);
    binding.config.channels.push_back(ioplane::ChannelDeclaration{c.client, c.server, c.port});
  }
  for (const policy::TileSensor& s : policy.tile.sensors) {
    ioplane::PlaneSensor sensor;
    sensor.spec.name = s.name;
    const auto kind = vdevices::sensors::parse_kind(s.kind);
    if (!kind) return tl::unexpected(fmt::format("sensor {}: unknown kind '{}'", s.name, s.kind));
    sensor.spec.kind = *kind;
    sensor.spec.poe_ports = s.poe_ports;
    sensor.seed = s.source.seed;
    sensor.day_ns = s.source.day_seconds * 1'000'000'000ULL;
    sensor.shared = s.shared_read;
    if (s.source.kind == policy::SensorSourceKind::kTrace) {
      // As the policy's checks read it: relative to the policy's folder.
      const std::filesystem::path trace(s.source.trace);
      sensor.trace = trace.is_absolute() ? trace : std::filesystem::path(policy.base_dir) / trace;
    }
    if (s.source.kind == policy::SensorSourceKind::kIio) sensor.iio = true;
    binding.config.sensors.push_back(std::move(sensor));
  }
  for (const policy::Partition& p : policy.partitions) {
    PartitionPorts& ports = binding.partitions[p.name];
    if (p.network) {
      vdevices::MacAddress mac = derived_mac(p.name);
      if (p.network->mac) {
        auto parsed = vdevices::MacAddress::parse(*p.network->mac);
        if (!parsed) return tl::unexpected(fmt::format("partition {}: MAC '{}' is not valid", p.name, *p.network->mac));
        mac = *parsed;
      }
      if (auto [it, fresh] = owner_of_mac.emplace(mac.text(), p.name); !fresh) {
        return tl::unexpected(fmt::format("partitions {} and {} would share the MAC address {}; give one a mac of its own",
                                          it->second, p.name, mac.text()));
      }
      binding.config.net_ports.push_back(
          ioplane::PlaneNetPort{p.name, mac, static_cast<std::uint16_t>(p.network->mtu), allow_list(*p.network)});
      ports.grants.insert("net:" + p.name);
      ports.vmm_arguments.push_back("--net");
      ports.vmm_arguments.push_back("port:" + p.name);
    }
    if (in_channels.count(p.name) != 0) {
      const std::uint64_t cid = derived_cid(p.name);
      if (auto [it, fresh] = owner_of_cid.emplace(cid, p.name); !fresh) {
        return tl::unexpected(fmt::format("partitions {} and {} would share the channel address (CID) {}", it->second,
                                          p.name, cid));
      }
      binding.config.vsock_ports.push_back(ioplane::PlaneVsockPort{p.name, cid});
      ports.grants.insert("vsock:" + p.name);
      ports.vmm_arguments.push_back("--vsock");
      ports.vmm_arguments.push_back("port:" + p.name);
    }
    for (const policy::SensorAssignment& s : p.sensors) {
      ports.grants.insert("console:sensor." + s.sensor);
      if (s.rate_hz) {
        ports.sensor_rates["sensor." + s.sensor] = {static_cast<std::uint64_t>(std::llround(s.rate_hz->min * 1000.0)),
                                                    static_cast<std::uint64_t>(std::llround(s.rate_hz->max * 1000.0))};
      }
      ports.vmm_arguments.push_back("--console-port");
      ports.vmm_arguments.push_back("sensor." + s.sensor);
    }
  }
  if (policy.tile.uplink_tap) {
    // The switch's port "uplink", which allow-lists name as "uplink". The host may send a partition
    // any frame some partition's device can take; larger ones are dropped at the TAP.
    ioplane::PlaneUplink uplink{*policy.tile.uplink_tap, 0};
    for (const ioplane::PlaneNetPort& p : binding.config.net_ports) uplink.mtu = std::max(uplink.mtu, p.mtu);
    if (uplink.mtu == 0) uplink.mtu = 1500;
    binding.config.uplink = std::move(uplink);
  }
  return binding;
}

ioplane::PlaneConfig merged(const ioplane::PlaneConfig& before, const ioplane::PlaneConfig& after) {
  ioplane::PlaneConfig out = after;
  std::set<std::string> names;
  for (const auto& p : after.net_ports) names.insert("net:" + p.name);
  for (const auto& p : after.vsock_ports) names.insert("vsock:" + p.name);
  for (const auto& s : after.sensors) names.insert("sensor:" + s.spec.name);
  for (const auto& p : before.net_ports) {
    if (names.count("net:" + p.name) == 0) out.net_ports.push_back(p);
  }
  for (const auto& p : before.vsock_ports) {
    if (names.count("vsock:" + p.name) == 0) out.vsock_ports.push_back(p);
  }
  for (const auto& s : before.sensors) {
    if (names.count("sensor:" + s.spec.name) == 0) out.sensors.push_back(s);
  }
  for (const auto& c : before.channels) out.channels.push_back(c);
  return out;
}

}  // namespace tilehv::daemon
