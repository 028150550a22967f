// RunControl: the run / pause / stop state every vCPU thread of a VM obeys, and the pause handshake.
#include "vmm/run_control.hpp"

namespace tilehv::vmm {

void RunControl::set_request(RunRequest r) noexcept {
  {
    std::lock_guard lock(mutex_);
    // Stop is final: a late pause or resume must not revive a stopping VM.
    if (request_.load() == RunRequest::kStop) return;
    request_.store(r, std::memory_order_seq_cst);
  }
  changed_.notify_all();
}

RunRequest RunControl::park() noexcept {
  std::unique_lock lock(mutex_);
  ++parked_;
  changed_.notify_all();
  changed_.wait(lock, [&] { return request_.load() != RunRequest::kPause; });
  --parked_;
  return request_.load();
}

bool RunControl::wait_all_parked(std::chrono::milliseconds timeout) noexcept {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] {
    return request_.load() == RunRequest::kPause && parked_ + exited_ >= vcpu_count_;
  });
}

void RunControl::vcpu_exited() noexcept {
  {
    std::lock_guard lock(mutex_);
    ++exited_;
  }
  changed_.notify_all();
}

}  // namespace tilehv::vmm
