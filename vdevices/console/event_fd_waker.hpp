// EventFdWaker: the BackendWaker the VMM uses: it signals an eventfd its device worker watches, so a
// backend's news reaches the device on the worker thread, never on the thread that produced it.
#pragma once

#include "console/console_port_backend.hpp"
#include "util/event_fd.hpp"

namespace tilehv::vdevices {

class EventFdWaker final : public BackendWaker {
 public:
  // `event` must outlive the waker.
  explicit EventFdWaker(const util::EventFd& event) : event_(event) {}
  void wake() noexcept override { event_.signal(); }

 private:
  const util::EventFd& event_;
};

}  // namespace tilehv::vdevices
