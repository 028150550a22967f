// PlaneClient: a VMM's side of its plane link. It asks the I/O plane for ports and keeps a copy of
// each granted port's descriptors, so that when the tile daemon restarts (its plane with it) and
// hands the VMM a new link, the VMM gives every port back to the new plane and the rings continue
// where they stand: nothing in flight is lost and the guest never notices.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include "port/plane_link.hpp"
#include "port/port_endpoint.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::vdevices::port {

class PlaneClient {
 public:
  explicit PlaneClient(util::UniqueFd link) : link_(std::move(link)) {}

  // Asks the plane for a port; the grant's descriptors go to the device, a copy stays here.
  [[nodiscard]] tl::expected<PortGrant, std::string> request(const PortRequest& request, std::chrono::milliseconds timeout);

  struct RelinkResult {
    std::vector<std::string> reattached;                        // "kind:name"
    std::vector<std::pair<std::string, std::string>> refused;  // "kind:name", why
  };
  // Hands every held port to the plane at the other end of `link`. The new link replaces the old
  // one unless every port was refused (then the old plane, if it lives, keeps them).
  [[nodiscard]] RelinkResult relink(util::UniqueFd link, std::chrono::milliseconds timeout_per_port);

  [[nodiscard]] std::size_t held() const noexcept { return held_.size(); }

 private:
  struct Held {
    PortRequest request;
    PortFds fds;  // as the device side holds them
  };
  util::UniqueFd link_;
  std::vector<Held> held_;
};

}  // namespace tilehv::vdevices::port
