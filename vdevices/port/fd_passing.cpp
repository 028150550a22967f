// Passing file descriptors between processes over a unix socket (SCM_RIGHTS).
#include "port/fd_passing.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "util/errno_text.hpp"

namespace tilehv::vdevices::port {

tl::expected<void, std::string> send_message(int socket, std::span<const std::uint8_t> bytes, std::span<const int> fds) {
  if (fds.size() > kMaxPassedFds) return tl::unexpected(fmt::format("{} descriptors in one message", fds.size()));
  iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    const ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (n >= 0) return {};
    if (errno != EINTR) return tl::unexpected("sendmsg: " + util::errno_text(errno));
  }
}

tl::expected<ReceivedMessage, std::string> receive_message(int socket, std::size_t max_bytes) {
  ReceivedMessage out;
  out.bytes.resize(max_bytes);
  iovec iov{out.bytes.data(), out.bytes.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = -1;
  do {
    n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return tl::unexpected("recvmsg: " + util::errno_text(errno));
  // Take ownership of every descriptor first, so that an error below closes them.
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      out.fds.emplace_back(fd);
    }
  }
  if ((msg.msg_flags & MSG_CTRUNC) != 0) return tl::unexpected(std::string("message carried too many descriptors"));
  if ((msg.msg_flags & MSG_TRUNC) != 0) return tl::unexpected(fmt::format("message longer than {} bytes", max_bytes));
  out.bytes.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace tilehv::vdevices::port
