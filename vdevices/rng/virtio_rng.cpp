// VirtioRng: the virtio entropy device (spec 5.4): fills every device-writable buffer the driver
// offers with bytes from its EntropySource.
#include "rng/virtio_rng.hpp"

#include <algorithm>

namespace tilehv::vdevices {
namespace {

constexpr const char* kStateKind = "virtio-rng";

}  // namespace

tl::expected<void, std::string> VirtioRng::activate(virtio::ActiveQueues queues, virtio::VirtioInterrupt& interrupt) {
  if (queues.queues.size() != 1 || queues.queue_indices[0] != 0) {
    return tl::unexpected(std::string("virtio-rng needs its request queue (queue 0) ready"));
  }
  std::lock_guard lock(mutex_);
  queue_.emplace(std::move(queues.queues[0]));
  interrupt_ = &interrupt;
  return {};
}

tl::expected<void, std::string> VirtioRng::notify(std::uint16_t queue) noexcept {
  if (queue != 0) return {};
  virtio::VirtioInterrupt* signal = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (!queue_) return {};
    bool pushed = false;
    for (;;) {
      auto next = queue_->pop();
      if (!next) return tl::unexpected(next.error().message);
      if (!next->has_value()) break;
      const virtio::DescriptorChain& chain = **next;
      std::uint32_t written = 0;
      for (const virtio::Buffer& b : chain.buffers) {
        if (!b.device_writable || written >= kMaxBytesPerRequest) continue;
        const std::uint32_t take = std::min(b.length, kMaxBytesPerRequest - written);
        // The queue checked the whole buffer against guest RAM; slice() checks again before the write.
        auto dst = memory_.slice(b.address, take);
        if (!dst) return tl::unexpected(dst.error().describe());
        if (!source_.fill(*dst)) {
          metrics_.source_failures.fetch_add(1, std::memory_order_relaxed);
          break;
        }
        written += take;
      }
      if (auto used = queue_->push_used(chain.head, written); !used) return tl::unexpected(used.error().message);
      metrics_.requests.fetch_add(1, std::memory_order_relaxed);
      metrics_.bytes.fetch_add(written, std::memory_order_relaxed);
      pushed = true;
    }
    if (pushed) {
      auto wanted = queue_->needs_interrupt();
      if (!wanted) return tl::unexpected(wanted.error().message);
      // A device restored while active has no transport attached until it is activated again.
      if (*wanted) signal = interrupt_;
    }
  }
  // Outside the device lock: the transport takes its own lock to raise the interrupt, and it holds
  // that lock while it resets this device (see VirtioDevice).
  if (signal != nullptr) signal->used_buffers();
  return {};
}

void VirtioRng::reattach(virtio::VirtioInterrupt& interrupt) noexcept {
  std::lock_guard lock(mutex_);
  if (queue_) interrupt_ = &interrupt;
}

void VirtioRng::reset() noexcept {
  std::lock_guard lock(mutex_);
  queue_.reset();
  interrupt_ = nullptr;
}

DeviceState VirtioRng::save_state() const {
  std::lock_guard lock(mutex_);
  StateWriter w;
  w.boolean(queue_.has_value());
  if (queue_) queue_->save(w);
  return DeviceState{kStateKind, 1, w.take()};
}

tl::expected<void, StateError> VirtioRng::restore_state(const DeviceState& state) {
  if (auto ok = check_state_header(state, kStateKind, 1); !ok) return ok;
  StateReader r(state.payload);
  auto active = r.boolean();
  if (!active) return tl::unexpected(active.error());
  std::optional<virtio::SplitQueue> queue;
  if (*active) {
    auto restored = virtio::SplitQueue::restore(r, memory_);
    if (!restored) return tl::unexpected(StateError{restored.error().message});
    queue.emplace(std::move(*restored));
  }
  if (!r.at_end()) return tl::unexpected(StateError{"virtio-rng state has trailing bytes"});
  std::lock_guard lock(mutex_);
  // An active queue needs the transport's interrupt again: the transport's restore calls reattach().
  queue_ = std::move(queue);
  return {};
}

}  // namespace tilehv::vdevices
