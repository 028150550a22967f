// The floor for round trips between processes: a token passed around a ring of processes through
// eventfds, each hop one cross-process wakeup, and the median helper the I/O benchmarks share.
#pragma once

#include <vector>

namespace tilehv::bench {

// The median round trip, in microseconds, of `rounds` trips of a token around `hops` processes.
[[nodiscard]] double eventfd_ring_floor_us(int hops, int rounds);

[[nodiscard]] double median(std::vector<double> values);

}  // namespace tilehv::bench
