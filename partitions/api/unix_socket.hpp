// Unix stream sockets of the control API: the daemon's listening socket (its mode, its group, and
// the rule that a stale socket file is replaced but a live server is never displaced) and the
// clients' connections.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <utility>

#include <tl/expected.hpp>

#include "util/unique_fd.hpp"

namespace tilehv::api {

struct UnixListenOptions {
  UnixListenOptions() = default;
  // Not explicit: a path alone is the common case, `listen({path})`.
  UnixListenOptions(std::string socket_path) : path(std::move(socket_path)) {}  // NOLINT(google-explicit-constructor)

  std::string path;
  mode_t mode = 0660;  // owner and group may connect; nobody else
  std::string group;   // group name or number to own the socket; empty keeps the process's group
  int backlog = 64;
};

// Creates, binds and listens. The mode and group are set before listen(), so nobody can connect
// while the socket still has the umask's permissions. Non-blocking and close-on-exec.
[[nodiscard]] tl::expected<util::UniqueFd, std::string> listen_unix(const UnixListenOptions& options);

// Connects to the server at `path`, waiting at most `timeout` for room in its backlog. The result is
// non-blocking and close-on-exec. Errors say what to check ("is tilehvd running?").
[[nodiscard]] tl::expected<util::UniqueFd, std::string> connect_unix(const std::string& path,
                                                                     std::chrono::milliseconds timeout);

}  // namespace tilehv::api
