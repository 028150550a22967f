// IoPlane: the tile's own end of its channels (CID 2, "host"): packets it sends are routed like a
// partition's, and a refused one comes back to it as a reset.
#include "ioplane/io_plane.hpp"
#include "vsock/virtio_vsock.hpp"

namespace tilehv::ioplane {

void IoPlane::flush_host_channel() {
  while (host_->has_outgoing()) {
    auto packet = host_->next_outgoing();
    if (!packet) break;
    const RouteDecision decision = router_.route(host_endpoint_, *packet);
    if (decision.kind == RouteDecision::Kind::kReset) {
      // Nobody may be reached there: the host's end learns it as a partition would.
      const auto reset = vdevices::vsock::reset_for(vdevices::vsock::read_header(*packet));
      host_->receive({reinterpret_cast<const std::uint8_t*>(&reset), sizeof reset});
      continue;
    }
    if (decision.kind != RouteDecision::Kind::kDeliver) continue;
    auto to = port_of_endpoint_.find(decision.to);
    if (to == port_of_endpoint_.end()) continue;
    auto sent = deliver(*ports_.at(to->second), *packet);
    if (!sent) {
      cut_off(to->second, sent.error().message);
    } else if (*sent == vdevices::port::PushResult::kPushed) {
      router_.delivered(decision.to);
    } else {
      router_.no_room(decision.to);
    }
  }
}

void IoPlane::with_host_channel(const std::function<void(HostChannel&)>& use) {
  std::lock_guard lock(mutex_);
  use(*host_);
  flush_host_channel();
}

}  // namespace tilehv::ioplane
