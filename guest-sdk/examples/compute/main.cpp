// Compute: a deterministic CPU-bound workload over integers, reported as a checksum.
//
// iterations=N on the command line sets the work (default below). The result depends only on N.
// Floating point is exercised by the sse test kernel instead: a software-assisted KVM that emulates
// guest instructions cannot run SSE arithmetic, and an example must run on every KVM host.
#include <guest/kernel.hpp>

#include "workload.hpp"

using namespace guest;

namespace {
// About 0.35 s where guest instructions are emulated, well under a millisecond on hardware KVM.
constexpr std::uint64_t default_iterations = 50'000;
}  // namespace

int kernel_main() {
  const std::uint64_t iterations = cmdline::get_u64("iterations", default_iterations);
  const std::uint64_t start = time::now_ns();
  const std::uint64_t checksum = compute::run(iterations);
  const std::uint64_t elapsed_us = (time::now_ns() - start) / 1000;
  print("compute: {} iterations in {} us\n", iterations, elapsed_us);
  print("compute: checksum {:016x}\n", checksum);
  return 0;
}
