// Socket I/O with deadlines: every read and write of the control API on a non-blocking socket,
// bounded in time and interruptible by a cancel descriptor, so that no peer can hold a thread forever.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string_view>

namespace tilehv::api {

using Clock = std::chrono::steady_clock;

enum class IoStatus {
  kOk,
  kTimedOut,  // the deadline passed
  kCanceled,  // the cancel descriptor became readable (the server is stopping)
  kPeerGone,  // the peer closed (end of file, EPIPE, ECONNRESET)
  kFailed,    // another error; `error` holds errno
};

struct IoResult {
  IoStatus status = IoStatus::kOk;
  std::size_t bytes = 0;
  int error = 0;
};

// Sends all of `data`, waiting for room until `deadline`. `cancel_fd` < 0 means none.
IoResult send_all(int fd, std::string_view data, Clock::time_point deadline, int cancel_fd) noexcept;

// Receives what is there (at least one byte) into `buffer`, waiting until `deadline`.
IoResult receive_some(int fd, std::span<char> buffer, Clock::time_point deadline, int cancel_fd) noexcept;

// True if `cancel_fd` (when >= 0) is readable now.
[[nodiscard]] bool cancel_requested(int cancel_fd) noexcept;

// Waits until the peer hangs up, the cancel descriptor fires or `timeout` passes, without reading:
// bytes the peer sends meanwhile stay queued. kOk means the timeout passed with the peer still there.
IoStatus wait_for_hangup(int fd, std::chrono::milliseconds timeout, int cancel_fd) noexcept;

}  // namespace tilehv::api
