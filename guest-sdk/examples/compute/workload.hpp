// Compute workload: the deterministic integer kernel behind the compute example. Plain C++ with no
// SDK dependency, so the host can compute the same checksum to check a guest's answer.
#pragma once

#include <cstdint>

namespace compute {

// Runs `iterations` rounds of mixing over a small state and returns its checksum.
std::uint64_t run(std::uint64_t iterations);

}  // namespace compute
