// Passing file descriptors between processes over a unix socket (SCM_RIGHTS), one datagram at a time.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "util/unique_fd.hpp"

namespace tilehv::vdevices::port {

inline constexpr std::size_t kMaxPassedFds = 8;

struct ReceivedMessage {
  std::vector<std::uint8_t> bytes;
  std::vector<util::UniqueFd> fds;  // owned: closed unless the caller keeps them
};

// Sends `bytes` and `fds` as one message on a SOCK_SEQPACKET socket.
[[nodiscard]] tl::expected<void, std::string> send_message(int socket, std::span<const std::uint8_t> bytes,
                                                           std::span<const int> fds = {});
// Receives one message of at most `max_bytes`; a longer or truncated message, or more than
// kMaxPassedFds descriptors, is an error (and every descriptor that came with it is closed).
// An empty message with no descriptors means the peer closed the connection.
[[nodiscard]] tl::expected<ReceivedMessage, std::string> receive_message(int socket, std::size_t max_bytes);

}  // namespace tilehv::vdevices::port
