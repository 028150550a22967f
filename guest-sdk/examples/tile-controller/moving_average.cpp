// Moving average over the last kWindow temperatures.
#include "moving_average.hpp"

#include "integer_math.hpp"
#include "variant.hpp"

namespace tile_controller {

void MovingAverage::add(int64_t milli) {
  if constexpr (variant::kRunningSum) {
    // The value leaving the window (0 while it is not full yet, which takes nothing away).
    running_sum_ += milli - values_[next_];
  }
  values_[next_] = milli;
  next_ = (next_ + 1) % kWindow;
  if (count_ < kWindow) ++count_;
}

int64_t MovingAverage::average() const {
  if (count_ == 0) return 0;
  int64_t sum = 0;
  if constexpr (variant::kRunningSum) {
    sum = running_sum_;
  } else {
    // The reference way: every input pays for the whole window. Slots not written yet are never
    // summed, so the order of the values does not matter and nothing but count_ is needed.
    for (uint32_t i = 0; i < count_; ++i) sum += values_[i];
  }
  return divide_rounded(sum, count_);
}

}  // namespace tile_controller
