// ControlServer: the VMM's control socket (see control_server.hpp).
#include "cli/control_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "util/errno_text.hpp"

namespace tilehv::cli {
namespace {

constexpr auto kPauseTimeout = std::chrono::milliseconds(2000);
// The plane answers a reattach from its own thread in microseconds; this only bounds a plane that hangs.
constexpr auto kReattachTimeout = std::chrono::milliseconds(2000);
constexpr std::size_t kMaxControlFds = 4;

std::string error_line(std::string_view what) {
  // `what` may quote the request, whose bytes need not be UTF-8.
  return nlohmann::json{{"ok", false}, {"error", what}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

tl::expected<ControlServer, std::string> ControlServer::listen(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    return tl::unexpected("control socket path '" + path + "' is empty or too long");
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  util::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return tl::unexpected("control socket: " + util::errno_text(errno));
  // A socket file left by an earlier VMM of the same partition is stale: that VMM is gone, or the
  // daemon would not have started this one.
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0 && S_ISSOCK(existing.st_mode)) ::unlink(path.c_str());
  const mode_t old_mask = ::umask(0177);
  const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  const int bind_errno = errno;
  ::umask(old_mask);
  if (bound != 0) return tl::unexpected("control socket " + path + ": " + util::errno_text(bind_errno));
  if (::listen(fd.get(), static_cast<int>(kMaxClients)) != 0) {
    return tl::unexpected("control socket " + path + ": listen: " + util::errno_text(errno));
  }
  return ControlServer(std::move(fd));
}

void ControlServer::add_poll_fds(std::vector<pollfd>& fds) const {
  fds.push_back({listener_.get(), POLLIN, 0});
  for (const Client& c : clients_) fds.push_back({c.fd.get(), POLLIN, 0});
}

bool ControlServer::serve(const std::vector<pollfd>& fds, vmm::Vmm& vm) {
  bool stop = false;
  std::vector<int> ready;
  bool listener_ready = false;
  for (const pollfd& p : fds) {
    if (p.revents == 0) continue;
    if (p.fd == listener_.get()) {
      listener_ready = true;
    } else {
      ready.push_back(p.fd);
    }
  }
  for (int fd : ready) {
    for (auto it = clients_.begin(); it != clients_.end(); ++it) {
      if (it->fd.get() != fd) continue;
      if (!serve_client(*it, vm, stop)) clients_.erase(it);
      break;
    }
  }
  if (listener_ready) accept_clients();
  return stop;
}

void ControlServer::accept_clients() {
  for (;;) {
    util::UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd) return;  // EAGAIN: none left; anything else: the client is gone already
    if (clients_.size() >= kMaxClients) {
      // The oldest client makes room: a daemon that restarted must always get through, and its
      // predecessor's connection is the likeliest to be dead.
      clients_.erase(clients_.begin());
    }
    clients_.push_back(Client{std::move(fd), {}, {}});
  }
}

bool ControlServer::serve_client(Client& client, vmm::Vmm& vm, bool& stop) {
  char buffer[256];
  alignas(cmsghdr) char control[CMSG_SPACE(kMaxControlFds * sizeof(int))];
  iovec iov{buffer, sizeof buffer};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  const ssize_t got = ::recvmsg(client.fd.get(), &message, MSG_CMSG_CLOEXEC);
  if (got < 0) return errno == EAGAIN || errno == EINTR;
  // Descriptors are taken (and all but the first closed) before anything else: none may leak.
  bool one_passed = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      util::UniqueFd owned(fd);
      if (!one_passed) client.passed = std::move(owned);
      one_passed = true;
    }
  }
  if (got == 0) return false;
  client.pending.append(buffer, static_cast<std::size_t>(got));
  std::string replies;
  for (std::size_t end = client.pending.find('\n'); end != std::string::npos; end = client.pending.find('\n')) {
    std::string line = client.pending.substr(0, end);
    client.pending.erase(0, end + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    replies += answer(line, client, vm, stop);
  }
  bool keep = true;
  if (client.pending.size() > kMaxLine) {
    replies += error_line(fmt::format("request longer than {} bytes", kMaxLine));
    keep = false;
  }
  // Answers are a few hundred bytes and the socket buffer is empty between requests; a client that
  // does not read its answers loses them and its connection.
  if (!replies.empty() && ::send(client.fd.get(), replies.data(), replies.size(), MSG_NOSIGNAL | MSG_DONTWAIT) !=
                              static_cast<ssize_t>(replies.size())) {
    return false;
  }
  return keep;
}

std::string ControlServer::answer(const std::string& line, Client& client, vmm::Vmm& vm, bool& stop) {
  if (line == "status") return status_json(vm) + "\n";
  if (line == "pause") {
    if (!vm.pause(kPauseTimeout)) return error_line("the vCPUs did not stop within 2 s");
    paused_ = true;
    return status_json(vm) + "\n";
  }
  if (line == "resume") {
    vm.resume();
    paused_ = false;
    return status_json(vm) + "\n";
  }
  if (line == "relink") return relink(client);
  if (line == "stop") {
    stop = true;
    return nlohmann::json{{"ok", true}, {"state", "stopping"}}.dump() + "\n";
  }
  std::string shown = line.substr(0, 32);
  for (char& c : shown) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return error_line("unknown request '" + shown + "' (expected status, pause, resume, relink or stop)");
}

std::string ControlServer::relink(Client& client) {
  if (plane_ == nullptr) return error_line("this VMM has no link to an I/O plane");
  if (!client.passed) return error_line("relink needs the new plane link passed with the request (SCM_RIGHTS)");
  const auto result = plane_->relink(std::move(client.passed), kReattachTimeout);
  nlohmann::json refused = nlohmann::json::array();
  for (const auto& [port, why] : result.refused) refused.push_back({{"port", port}, {"error", why}});
  return nlohmann::json{{"ok", true}, {"reattached", result.reattached}, {"refused", refused}}.dump() + "\n";
}

std::string ControlServer::status_json(vmm::Vmm& vm) const {
  std::uint64_t total = 0, io = 0, mmio = 0, interrupted = 0, unhandled_io = 0, unhandled_mmio = 0;
  for (std::uint32_t i = 0; i < vm.vcpu_count(); ++i) {
    const vmm::VcpuMetrics& m = vm.vcpu_metrics(i);
    total += m.exits.load(std::memory_order_relaxed);
    io += m.io_exits.load(std::memory_order_relaxed);
    mmio += m.mmio_exits.load(std::memory_order_relaxed);
    interrupted += m.interrupted.load(std::memory_order_relaxed);
    unhandled_io += m.unhandled_io.load(std::memory_order_relaxed);
    unhandled_mmio += m.unhandled_mmio.load(std::memory_order_relaxed);
  }
  const nlohmann::json exits = {{"total", total}, {"io", io}, {"mmio", mmio}, {"interrupted", interrupted},
           {"unhandled_io", unhandled_io}, {"unhandled_mmio", unhandled_mmio}};
  return nlohmann::json{{"ok", true},
                        {"state", paused_ ? "paused" : "running"},
                        {"vcpus", vm.vcpu_count()},
                        {"memory_bytes", vm.guest_memory().size()},
                        {"exits", exits},
                        {"guest_errors", vm.guest_errors()},
                        {"console_bytes", vm.console_metrics().bytes_out.load(std::memory_order_relaxed)}}
      .dump();
}

}  // namespace tilehv::cli
