// Spinlock: a fair ticket lock for short critical sections shared between CPUs.
#pragma once

#include <atomic>
#include <cstdint>

#include <guest/cpu.hpp>

namespace guest {

class TicketLock {
 public:
  void lock() {
    const uint32_t ticket = next_.fetch_add(1, std::memory_order_relaxed);
    while (serving_.load(std::memory_order_acquire) != ticket) cpu::pause();
  }
  // Takes the lock only when it is free, so a failed attempt leaves no ticket behind.
  bool try_lock() {
    uint32_t free_ticket = serving_.load(std::memory_order_relaxed);
    return next_.compare_exchange_strong(free_ticket, free_ticket + 1, std::memory_order_acquire);
  }
  // Gives up after max_tsc_ticks so a crash report can still print when a lock holder died.
  bool lock_with_timeout(uint64_t max_tsc_ticks) {
    const uint64_t start = cpu::rdtsc();
    while (!try_lock()) {
      if (cpu::rdtsc() - start > max_tsc_ticks) return false;
      cpu::pause();
    }
    return true;
  }
  void unlock() { serving_.store(serving_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

 private:
  std::atomic<uint32_t> next_{0};
  std::atomic<uint32_t> serving_{0};
};

// Holds a TicketLock for a scope.
class LockGuard {
 public:
  explicit LockGuard(TicketLock& lock) : lock_(lock) { lock_.lock(); }
  ~LockGuard() { lock_.unlock(); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  TicketLock& lock_;
};

}  // namespace guest
