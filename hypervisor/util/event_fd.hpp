// EventFd: an owned eventfd counter, the notification primitive between KVM, devices and threads.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <optional>

#include "util/unique_fd.hpp"

namespace tilehv::util {

class EventFd {
 public:
  // Non-blocking, close-on-exec; nullopt if the kernel refuses (errno tells why).
  [[nodiscard]] static std::optional<EventFd> create() {
    UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!fd) return std::nullopt;
    return EventFd(std::move(fd));
  }

  // Adds one to the counter. A full counter (2^64 - 2) only means the reader is far behind.
  void signal() const noexcept {
    const std::uint64_t one = 1;
    (void)!::write(fd_.get(), &one, sizeof one);
  }
  // Reads and clears the counter; 0 if nothing was signalled.
  std::uint64_t consume() const noexcept {
    std::uint64_t value = 0;
    return ::read(fd_.get(), &value, sizeof value) == sizeof value ? value : 0;
  }
  [[nodiscard]] int fd() const noexcept { return fd_.get(); }

 private:
  explicit EventFd(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace tilehv::util
