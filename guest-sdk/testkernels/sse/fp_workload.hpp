// Floating-point workload: deterministic integer and SSE double arithmetic behind the sse test kernel.
#pragma once

#include <cstdint>

namespace sse_check {

// Runs iterations rounds and returns a checksum of the final integer and floating-point state.
uint64_t run(uint64_t iterations);

}  // namespace sse_check
