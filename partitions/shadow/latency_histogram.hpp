// LatencyHistogram: how much later the shadow's records come than their live twins, in quarter-octave
// buckets of microseconds: constant memory however long a shadow runs, percentiles within ~19%.
#pragma once

#include <array>
#include <cstdint>

namespace tilehv::shadow {

class LatencyHistogram {
 public:
  // `delay_ns` < 0: the shadow was ahead; counted, and as no delay in the percentiles.
  void add(std::int64_t delay_ns) noexcept;
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t ahead() const noexcept { return ahead_; }
  // The delay below which `fraction` (0..1) of the records came, in microseconds (a bucket's upper edge).
  [[nodiscard]] double percentile_us(double fraction) const noexcept;
  [[nodiscard]] double max_us() const noexcept { return static_cast<double>(max_ns_) / 1000.0; }

 private:
  static constexpr std::size_t kBuckets = 4 * 40;  // quarter octaves up to 2^40 us
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t ahead_ = 0;
  std::int64_t max_ns_ = 0;
};

}  // namespace tilehv::shadow
