// DeviceWorker: the VMM thread that serves device notifications (eventfds KVM signals on a guest's
// queue kick), so a kick costs the vCPU no exit to userspace and no device work on its thread.
#include "vmm/device_worker.hpp"

#include <pthread.h>
#include <sys/epoll.h>

#include <cerrno>

#include "util/errno_text.hpp"

namespace tilehv::vmm {
namespace {

// epoll data for the stop eventfd; watches use their index.
constexpr std::uint64_t kStopToken = ~0ULL;

}  // namespace

tl::expected<DeviceWorker, std::string> DeviceWorker::create() {
  util::UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll) return tl::unexpected("epoll_create1: " + util::errno_text(errno));
  auto stop = util::EventFd::create();
  if (!stop) return tl::unexpected("eventfd: " + util::errno_text(errno));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kStopToken;
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, stop->fd(), &ev) != 0) {
    return tl::unexpected("epoll_ctl: " + util::errno_text(errno));
  }
  return DeviceWorker(std::move(epoll), std::move(*stop));
}

DeviceWorker::~DeviceWorker() { stop(); }

tl::expected<void, std::string> DeviceWorker::watch(const util::EventFd& event, std::function<void()> handler) {
  return watch_fd(event.fd(), WatchMode::kEventCounter, std::move(handler));
}

tl::expected<void, std::string> DeviceWorker::watch_fd(int fd, WatchMode mode, std::function<void()> handler) {
  if (thread_.joinable()) return tl::unexpected(std::string("device worker already started"));
  epoll_event ev{};
  ev.events = mode == WatchMode::kEventCounter ? EPOLLIN : EPOLLIN | EPOLLET;
  ev.data.u64 = watches_.size();
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return tl::unexpected("epoll_ctl: " + util::errno_text(errno));
  }
  watches_.push_back({fd, mode, std::move(handler)});
  return {};
}

tl::expected<void, std::string> DeviceWorker::start() {
  if (watches_.empty() || thread_.joinable()) return {};
  try {
    thread_ = std::thread([this] {
      ::pthread_setname_np(::pthread_self(), "devices");
      run();
    });
  } catch (const std::system_error& e) {
    return tl::unexpected(std::string("cannot start the device worker: ") + e.what());
  }
  return {};
}

void DeviceWorker::stop() noexcept {
  if (!thread_.joinable()) return;
  stop_.signal();
  thread_.join();
}

void DeviceWorker::run() noexcept {
  epoll_event events[16];
  for (;;) {
    const int n = ::epoll_wait(epoll_.get(), events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;  // a kick signal aimed elsewhere in the process
      return;
    }
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kStopToken) return;
      const Watch& w = watches_[events[i].data.u64];
      if (w.mode == WatchMode::kEventCounter) {
        std::uint64_t value = 0;
        // Clear the counter first: a kick that arrives while the handler runs is then seen again.
        (void)!::read(w.fd, &value, sizeof value);
      }
      w.handler();
    }
  }
}

}  // namespace tilehv::vmm
