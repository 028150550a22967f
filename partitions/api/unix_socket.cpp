// Unix stream sockets: listening with stale-socket replacement, connecting with clear errors.
#include "api/unix_socket.hpp"

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "util/errno_text.hpp"

namespace tilehv::api {
namespace {

using util::errno_text;
using util::UniqueFd;

tl::expected<sockaddr_un, std::string> address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty()) return tl::unexpected(std::string("socket path is empty"));
  if (path.size() >= sizeof address.sun_path) {
    return tl::unexpected(fmt::format("socket path {} is longer than {} bytes", path, sizeof address.sun_path - 1));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// SAFETY: sockaddr_un is one of the socket address types the socket calls take through sockaddr*.
const sockaddr* as_sockaddr(const sockaddr_un& address) { return reinterpret_cast<const sockaddr*>(&address); }

tl::expected<gid_t, std::string> group_id(const std::string& group) {
  gid_t gid = 0;
  const auto [end, ec] = std::from_chars(group.data(), group.data() + group.size(), gid);
  if (ec == std::errc() && end == group.data() + group.size()) return gid;
  struct group entry{};
  struct group* found = nullptr;
  std::vector<char> buffer(16 * 1024);
  const int err = ::getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found == nullptr) {
    return tl::unexpected(err != 0 ? fmt::format("cannot look up group '{}': {}", group, errno_text(err))
                                   : fmt::format("no group named '{}'", group));
  }
  return found->gr_gid;
}

// An existing file at the path: a socket nobody answers on is removed; anything else is refused.
tl::expected<void, std::string> clear_stale(const std::string& path, const sockaddr_un& address) {
  struct stat info{};
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return {};
    return tl::unexpected(fmt::format("cannot inspect {}: {}", path, errno_text(errno)));
  }
  if (!S_ISSOCK(info.st_mode)) {
    return tl::unexpected(fmt::format("{} exists and is not a socket; refusing to replace it", path));
  }
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!probe) return tl::unexpected(fmt::format("cannot create a socket: {}", errno_text(errno)));
  if (::connect(probe.get(), as_sockaddr(address), sizeof address) == 0 || errno == EAGAIN) {
    // EAGAIN: a full backlog, which only a live server has.
    return tl::unexpected(fmt::format("another server is listening on {}; refusing to take its socket", path));
  }
  if (errno != ECONNREFUSED && errno != ENOENT) {
    return tl::unexpected(fmt::format("cannot tell whether {} is in use: {}", path, errno_text(errno)));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return tl::unexpected(fmt::format("cannot remove the stale socket {}: {}", path, errno_text(errno)));
  }
  return {};
}

}  // namespace

tl::expected<UniqueFd, std::string> listen_unix(const UnixListenOptions& options) {
  auto address = address_of(options.path);
  if (!address) return tl::unexpected(address.error());
  std::optional<gid_t> gid;
  if (!options.group.empty()) {
    auto found = group_id(options.group);
    if (!found) return tl::unexpected(found.error());
    gid = *found;
  }
  if (auto cleared = clear_stale(options.path, *address); !cleared) return tl::unexpected(cleared.error());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return tl::unexpected(fmt::format("cannot create a socket: {}", errno_text(errno)));
  if (::bind(fd.get(), as_sockaddr(*address), sizeof *address) != 0) {
    return tl::unexpected(fmt::format("cannot bind {}: {}", options.path, errno_text(errno)));
  }
  const auto fail = [&](std::string message) {
    ::unlink(options.path.c_str());
    return tl::unexpected(std::move(message));
  };
  if (::chmod(options.path.c_str(), options.mode) != 0) {
    return fail(fmt::format("cannot set the mode of {}: {}", options.path, errno_text(errno)));
  }
  if (gid && ::chown(options.path.c_str(), static_cast<uid_t>(-1), *gid) != 0) {
    return fail(fmt::format("cannot give {} to group '{}': {}", options.path, options.group, errno_text(errno)));
  }
  if (::listen(fd.get(), options.backlog) != 0) {
    return fail(fmt::format("cannot listen on {}: {}", options.path, errno_text(errno)));
  }
  return fd;
}

tl::expected<UniqueFd, std::string> connect_unix(const std::string& path, std::chrono::milliseconds timeout) {
  auto address = address_of(path);
  if (!address) return tl::unexpected(fmt::format("cannot connect: {}", address.error()));
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return tl::unexpected(fmt::format("cannot create a socket: {}", errno_text(errno)));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (::connect(fd.get(), as_sockaddr(*address), sizeof *address) == 0) return fd;
    const int err = errno;
    if (err == EINTR) continue;
    // A unix socket's non-blocking connect says EAGAIN while the server's backlog is full.
    if (err == EAGAIN && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    const char* hint = "";
    if (err == ENOENT || err == ECONNREFUSED) hint = " (is tilehvd running?)";
    if (err == EACCES) hint = " (is your user in the socket's group?)";
    if (err == EAGAIN) hint = " (the server is too busy to accept)";
    return tl::unexpected(fmt::format("cannot connect to {}: {}{}", path, errno_text(err), hint));
  }
}

}  // namespace tilehv::api
