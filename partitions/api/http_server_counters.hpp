// HttpServerCounters: what the control API's server counts for the daemon's metrics, updated by
// every connection thread without a lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace tilehv::api {

// A consistent-enough copy for a metrics scrape (each value is exact; they are read one by one).
struct HttpServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_rejected = 0;  // refused with 503: too many open connections
  std::uint64_t connections_open = 0;
  std::uint64_t requests = 0;  // responses sent or attempted, errors included
  std::array<std::uint64_t, 6> responses_by_class{};  // [2] = 2xx ... [5] = 5xx; [0] = out of range
};

class HttpServerCounters {
 public:
  void connection_accepted() noexcept {
    accepted_.fetch_add(1, std::memory_order_relaxed);
    open_.fetch_add(1, std::memory_order_relaxed);
  }
  void connection_closed() noexcept { open_.fetch_sub(1, std::memory_order_relaxed); }
  void connection_rejected() noexcept { rejected_.fetch_add(1, std::memory_order_relaxed); }
  void response(int status) noexcept {
    requests_.fetch_add(1, std::memory_order_relaxed);
    const int status_class = status / 100;
    by_class_[status_class >= 1 && status_class <= 5 ? static_cast<std::size_t>(status_class) : 0].fetch_add(
        1, std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t open() const noexcept { return open_.load(std::memory_order_relaxed); }

  [[nodiscard]] HttpServerStats snapshot() const noexcept {
    HttpServerStats stats;
    stats.connections_accepted = accepted_.load(std::memory_order_relaxed);
    stats.connections_rejected = rejected_.load(std::memory_order_relaxed);
    stats.connections_open = open_.load(std::memory_order_relaxed);
    stats.requests = requests_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < by_class_.size(); ++i) {
      stats.responses_by_class[i] = by_class_[i].load(std::memory_order_relaxed);
    }
    return stats;
  }

 private:
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> open_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::array<std::atomic<std::uint64_t>, 6> by_class_{};
};

}  // namespace tilehv::api
