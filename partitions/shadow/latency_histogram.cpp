// LatencyHistogram: quarter-octave buckets of microseconds (see latency_histogram.hpp).
#include "shadow/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace tilehv::shadow {
namespace {

// Bucket i holds delays up to 2^((i+1)/4) - 1 microseconds.
std::size_t bucket_of(double us, std::size_t buckets) {
  const double index = std::floor(std::log2(us + 1.0) * 4.0);
  return std::min(static_cast<std::size_t>(std::max(index, 0.0)), buckets - 1);
}

double upper_edge_us(std::size_t bucket) { return std::exp2(static_cast<double>(bucket + 1) / 4.0) - 1.0; }

}  // namespace

void LatencyHistogram::add(std::int64_t delay_ns) noexcept {
  ++count_;
  if (delay_ns < 0) {
    ++ahead_;
    delay_ns = 0;
  }
  max_ns_ = std::max(max_ns_, delay_ns);
  ++buckets_[bucket_of(static_cast<double>(delay_ns) / 1000.0, kBuckets)];
}

double LatencyHistogram::percentile_us(double fraction) const noexcept {
  if (count_ == 0) return 0;
  const auto wanted = static_cast<std::uint64_t>(std::ceil(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= std::max<std::uint64_t>(wanted, 1)) return std::min(upper_edge_us(i), max_us());
  }
  return max_us();
}

}  // namespace tilehv::shadow
