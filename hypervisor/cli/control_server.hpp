// ControlServer: the VMM's control socket, through which the tile daemon asks a running partition
// for its status and pauses, resumes or stops it.
//
// The socket is bound at a path before the VMM enters its jail, so the daemon (and a daemon that
// restarts after a crash) can reach a VMM whose filesystem view is empty. Served from the VMM's main
// thread, between its other waits: one line per request, one JSON line per answer:
//   status | pause | resume | stop   →   {"ok":true,...} or {"ok":false,"error":"..."}
//   relink, with a new plane link passed along (SCM_RIGHTS): a restarted daemon gets the VMM's
//   ports back on its new I/O plane   →   {"ok":true,"reattached":[...],"refused":[...]}
// A client is a peer of the daemon, not the guest, yet its requests are still bounded and checked.
#pragma once

#include <poll.h>

#include <cstddef>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "port/plane_client.hpp"
#include "util/unique_fd.hpp"
#include "vmm/vmm.hpp"

namespace tilehv::cli {

class ControlServer {
 public:
  static constexpr std::size_t kMaxClients = 4;
  static constexpr std::size_t kMaxLine = 128;

  // Binds and listens at `path` (mode 0600; a stale socket file is replaced).
  [[nodiscard]] static tl::expected<ControlServer, std::string> listen(const std::string& path);

  // Appends the descriptors to wait on; serve() gets them back with their revents.
  void add_poll_fds(std::vector<pollfd>& fds) const;
  // Accepts and answers what `fds` (from add_poll_fds, after poll) say is ready. Returns true when a
  // client asked the VM to stop (the caller ends it with that reason).
  [[nodiscard]] bool serve(const std::vector<pollfd>& fds, vmm::Vmm& vm);
  [[nodiscard]] bool paused() const noexcept { return paused_; }
  // The VMM's plane link, which `relink` hands to a new plane (borrowed; none: relink is refused).
  void set_plane(vdevices::port::PlaneClient* plane) noexcept { plane_ = plane; }

 private:
  struct Client {
    util::UniqueFd fd;
    std::string pending;    // bytes of an unfinished line
    util::UniqueFd passed;  // a descriptor that came with the client's bytes, for its next relink
  };
  explicit ControlServer(util::UniqueFd listener) : listener_(std::move(listener)) {}
  void accept_clients();
  // False when the client must be dropped.
  [[nodiscard]] bool serve_client(Client& client, vmm::Vmm& vm, bool& stop);
  [[nodiscard]] std::string answer(const std::string& line, Client& client, vmm::Vmm& vm, bool& stop);
  [[nodiscard]] std::string relink(Client& client);
  [[nodiscard]] std::string status_json(vmm::Vmm& vm) const;

  util::UniqueFd listener_;
  std::vector<Client> clients_;
  bool paused_ = false;
  vdevices::port::PlaneClient* plane_ = nullptr;
};

}  // namespace tilehv::cli
