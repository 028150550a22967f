// RunControl: the run / pause / stop state every vCPU thread of a VM obeys, and the pause handshake.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace tilehv::vmm {

enum class RunRequest : std::uint8_t { kRun, kPause, kStop };

class RunControl {
 public:
  explicit RunControl(std::uint32_t vcpu_count) : vcpu_count_(vcpu_count) {}

  [[nodiscard]] RunRequest request() const noexcept { return request_.load(std::memory_order_seq_cst); }

  // Set before vCPUs are kicked; vCPU threads read it after clearing their immediate-exit flag, so a
  // request is never missed (see VcpuRunner::run_loop).
  void set_request(RunRequest r) noexcept;

  // Called by a vCPU thread that saw kPause: parks until the request changes. Returns the new one.
  RunRequest park() noexcept;

  // Waits until every running vCPU thread is parked; false on timeout.
  [[nodiscard]] bool wait_all_parked(std::chrono::milliseconds timeout) noexcept;

  // A vCPU thread that leaves its loop for good no longer counts towards "all parked".
  void vcpu_exited() noexcept;

 private:
  std::atomic<RunRequest> request_{RunRequest::kRun};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint32_t vcpu_count_;
  std::uint32_t parked_ = 0;
  std::uint32_t exited_ = 0;
};

}  // namespace tilehv::vmm
