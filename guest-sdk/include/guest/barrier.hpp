// Barrier: a reusable rendezvous of a fixed number of CPUs.
#pragma once

#include <atomic>
#include <cstdint>

namespace guest {

class Barrier {
 public:
  explicit Barrier(uint32_t participants) : participants_(participants), remaining_(participants) {}
  // Returns once all participants have called wait() for the current round.
  void wait();

 private:
  const uint32_t participants_;
  std::atomic<uint32_t> remaining_;
  std::atomic<uint32_t> round_{0};
};

}  // namespace guest
