// Barrier: a reusable rendezvous of a fixed number of CPUs.
#include <guest/barrier.hpp>

#include <guest/cpu.hpp>

namespace guest {

void Barrier::wait() {
  // The round is read before arriving, so the last arrival's increment is what releases the others.
  const uint32_t round = round_.load(std::memory_order_acquire);
  if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    remaining_.store(participants_, std::memory_order_relaxed);
    round_.store(round + 1, std::memory_order_release);
    return;
  }
  while (round_.load(std::memory_order_acquire) == round) cpu::pause();
}

}  // namespace guest
