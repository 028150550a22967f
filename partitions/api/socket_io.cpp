// Socket I/O with deadlines, on poll(2).
#include "api/socket_io.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

namespace tilehv::api {
namespace {

int remaining_ms(Clock::time_point deadline) noexcept {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  // poll takes an int; waits are re-armed after each wake-up, so capping loses nothing.
  return left > 60'000 ? 60'000 : static_cast<int>(left);
}

// Waits for `events` on fd; kOk when they (or an error/hang-up condition) are there.
IoStatus wait_for(int fd, short events, Clock::time_point deadline, int cancel_fd) noexcept {
  for (;;) {
    pollfd fds[2] = {{fd, events, 0}, {cancel_fd, POLLIN, 0}};
    const int ms = remaining_ms(deadline);
    const int ready = ::poll(fds, cancel_fd >= 0 ? 2 : 1, ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return IoStatus::kFailed;
    }
    if (cancel_fd >= 0 && (fds[1].revents & POLLIN) != 0) return IoStatus::kCanceled;
    if (fds[0].revents != 0) return IoStatus::kOk;
    if (ms == 0 || Clock::now() >= deadline) return IoStatus::kTimedOut;
  }
}

bool peer_gone(int error) noexcept { return error == EPIPE || error == ECONNRESET || error == ENOTCONN; }

}  // namespace

IoResult send_all(int fd, std::string_view data, Clock::time_point deadline, int cancel_fd) noexcept {
  IoResult result;
  while (result.bytes < data.size()) {
    // MSG_NOSIGNAL: a peer that left must be an EPIPE here, not a SIGPIPE for the whole daemon.
    const ssize_t sent = ::send(fd, data.data() + result.bytes, data.size() - result.bytes, MSG_NOSIGNAL);
    if (sent > 0) {
      result.bytes += static_cast<std::size_t>(sent);
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      result.error = errno;
      result.status = peer_gone(errno) ? IoStatus::kPeerGone : IoStatus::kFailed;
      return result;
    }
    const IoStatus waited = wait_for(fd, POLLOUT, deadline, cancel_fd);
    if (waited != IoStatus::kOk) {
      result.status = waited;
      result.error = waited == IoStatus::kFailed ? errno : 0;
      return result;
    }
  }
  return result;
}

IoResult receive_some(int fd, std::span<char> buffer, Clock::time_point deadline, int cancel_fd) noexcept {
  IoResult result;
  for (;;) {
    const ssize_t got = ::recv(fd, buffer.data(), buffer.size(), 0);
    if (got > 0) {
      result.bytes = static_cast<std::size_t>(got);
      return result;
    }
    if (got == 0) {
      result.status = IoStatus::kPeerGone;
      return result;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      result.error = errno;
      result.status = peer_gone(errno) ? IoStatus::kPeerGone : IoStatus::kFailed;
      return result;
    }
    const IoStatus waited = wait_for(fd, POLLIN, deadline, cancel_fd);
    if (waited != IoStatus::kOk) {
      result.status = waited;
      result.error = waited == IoStatus::kFailed ? errno : 0;
      return result;
    }
  }
}

bool cancel_requested(int cancel_fd) noexcept {
  if (cancel_fd < 0) return false;
  pollfd fd{cancel_fd, POLLIN, 0};
  return ::poll(&fd, 1, 0) == 1 && (fd.revents & POLLIN) != 0;
}

IoStatus wait_for_hangup(int fd, std::chrono::milliseconds timeout, int cancel_fd) noexcept {
  // POLLRDHUP: the peer shut down or closed; POLLIN is not asked for, so a pipelined request that
  // waits in the socket does not look like a hang-up.
  const IoStatus waited = wait_for(fd, POLLRDHUP, Clock::now() + timeout, cancel_fd);
  if (waited == IoStatus::kTimedOut) return IoStatus::kOk;
  return waited == IoStatus::kOk ? IoStatus::kPeerGone : waited;
}

}  // namespace tilehv::api
