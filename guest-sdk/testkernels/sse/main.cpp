// SSE: runs a deterministic integer + SSE double workload and checks its checksum against the value
// the same code gives natively, proving SSE is enabled and correct in the guest. Needs a KVM that runs
// guest instructions on the CPU (hardware KVM, or the nested lab); an emulating KVM cannot run it.
#include <guest/kernel.hpp>

#include "fp_workload.hpp"

using namespace guest;

namespace {
constexpr std::uint64_t kIterations = 1000;
// The checksum of kIterations rounds, computed natively on x86-64 (SSE2 rounding is exact IEEE 754).
constexpr std::uint64_t kExpected = 0x90493cc939243f35ULL;
}  // namespace

int kernel_main() {
  const std::uint64_t checksum = sse_check::run(kIterations);
  print("sse: checksum {:016x} {}\n", checksum, checksum == kExpected ? "ok" : "WRONG");
  return checksum == kExpected ? 0 : 1;
}
