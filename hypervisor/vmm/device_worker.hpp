// DeviceWorker: the VMM thread that serves device notifications (eventfds KVM signals on a guest's
// queue kick), so a kick costs the vCPU no exit to userspace and no device work on its thread.
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <tl/expected.hpp>

#include "util/event_fd.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::vmm {

class DeviceWorker {
 public:
  [[nodiscard]] static tl::expected<DeviceWorker, std::string> create();
  DeviceWorker(DeviceWorker&&) noexcept = default;
  DeviceWorker& operator=(DeviceWorker&&) = delete;
  ~DeviceWorker();

  // Calls `handler` on the worker thread whenever `event` is signalled. Only before start(); the
  // eventfd must outlive the worker.
  [[nodiscard]] tl::expected<void, std::string> watch(const util::EventFd& event, std::function<void()> handler);
  // How watch_fd() treats a descriptor: an eventfd whose counter the worker clears before the handler,
  // or any descriptor watched edge-triggered that the handler itself drains (a TAP device, a port's
  // wake eventfd whose owner clears it).
  enum class WatchMode { kEventCounter, kEdgeDrainedByHandler };
  [[nodiscard]] tl::expected<void, std::string> watch_fd(int fd, WatchMode mode, std::function<void()> handler);
  [[nodiscard]] tl::expected<void, std::string> start();
  // Stops and joins the thread; idempotent.
  void stop() noexcept;

 private:
  DeviceWorker(util::UniqueFd epoll, util::EventFd stop) : epoll_(std::move(epoll)), stop_(std::move(stop)) {}
  void run() noexcept;

  struct Watch {
    int fd;
    WatchMode mode;
    std::function<void()> handler;
  };
  util::UniqueFd epoll_;
  util::EventFd stop_;
  std::vector<Watch> watches_;
  std::thread thread_;
};

}  // namespace tilehv::vmm
