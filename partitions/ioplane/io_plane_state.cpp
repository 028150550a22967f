// IoPlane: what the API reads of the plane (counters of its ports, live or of VMMs that left) and
// what a policy changes in it while it runs (allow-lists, channel declarations, the uplink).
#include "ioplane/io_plane.hpp"

namespace tilehv::ioplane {

std::optional<vdevices::sensors::PortMetrics> IoPlane::sensor_counters(const std::string& port) const {
  std::lock_guard lock(mutex_);
  for (const auto& [id, live] : ports_) {
    if (live->kind == LivePort::Kind::kSensor && live->name == port) return live->feed->metrics();
  }
  if (auto r = retired_sensors_.find(port); r != retired_sensors_.end()) return r->second;
  return std::nullopt;
}

std::optional<EndpointCounters> IoPlane::channel_counters(const std::string& port) const {
  std::lock_guard lock(mutex_);
  if (auto id = router_.find(port)) return *router_.counters(*id);
  if (auto r = retired_channels_.find(port); r != retired_channels_.end()) return r->second;
  return std::nullopt;
}

std::optional<SwitchPortCounters> IoPlane::counters(const std::string& port) const {
  std::lock_guard lock(mutex_);
  if (auto id = switch_.find(port)) return *switch_.counters(*id);
  if (auto r = retired_.find(port); r != retired_.end()) return r->second;
  return std::nullopt;
}

tl::expected<void, std::string> IoPlane::reconfigure(PlaneConfig config) {
  std::lock_guard lock(mutex_);
  // The uplink first: the one step that can fail, so that a failure leaves everything as it was.
  if (auto uplink = configure_uplink(config.uplink, config.net_ports); !uplink) return uplink;
  for (const PlaneNetPort& p : config.net_ports) {
    if (auto id = switch_.find(p.name)) switch_.set_allow_list(*id, p.allow);
  }
  router_.set_channels(config.channels);
  config_ = std::move(config);
  return {};
}

void IoPlane::set_allow_list(const std::string& port, AllowList allow) {
  std::lock_guard lock(mutex_);
  for (PlaneNetPort& p : config_.net_ports) {
    if (p.name == port) p.allow = allow;
  }
  if (auto id = switch_.find(port)) switch_.set_allow_list(*id, std::move(allow));
}

}  // namespace tilehv::ioplane
