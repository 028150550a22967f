// PlaneClient: a VMM's side of its plane link (see plane_client.hpp).
#include "port/plane_client.hpp"

#include <fcntl.h>

#include "util/errno_text.hpp"

namespace tilehv::vdevices::port {
namespace {

tl::expected<util::UniqueFd, std::string> copy_fd(const util::UniqueFd& fd) {
  util::UniqueFd copy(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
  if (!copy) return tl::unexpected("dup of a port descriptor: " + util::errno_text(errno));
  return copy;
}

tl::expected<PortFds, std::string> copy_fds(const PortFds& fds) {
  auto memory = copy_fd(fds.memory);
  if (!memory) return tl::unexpected(memory.error());
  auto own = copy_fd(fds.own_wake);
  if (!own) return tl::unexpected(own.error());
  auto peer = copy_fd(fds.peer_wake);
  if (!peer) return tl::unexpected(peer.error());
  return PortFds{std::move(*memory), std::move(*own), std::move(*peer)};
}

}  // namespace

tl::expected<PortGrant, std::string> PlaneClient::request(const PortRequest& request, std::chrono::milliseconds timeout) {
  if (!link_) return tl::unexpected("port " + request.name + " needs a link to the I/O plane");
  auto grant = request_port(link_.get(), request, timeout);
  if (!grant) return grant;
  auto copy = copy_fds(grant->fds);
  if (!copy) return tl::unexpected(copy.error());
  held_.push_back(Held{request, std::move(*copy)});
  return grant;
}

PlaneClient::RelinkResult PlaneClient::relink(util::UniqueFd link, std::chrono::milliseconds timeout_per_port) {
  RelinkResult result;
  for (const Held& port : held_) {
    const std::string id = port.request.kind + ":" + port.request.name;
    if (auto done = reattach_port(link.get(), port.request, port.fds, timeout_per_port); done) {
      result.reattached.push_back(id);
    } else {
      result.refused.emplace_back(id, done.error());
    }
  }
  if (held_.empty() || !result.reattached.empty()) link_ = std::move(link);
  return result;
}

}  // namespace tilehv::vdevices::port
