// Moving average: the mean of the last kWindow temperatures (of all of them while fewer came),
// rounded half away from zero. The variants differ in how they get it, never in the number: v1 sums
// the whole window for every input (the reference, O(W)); v2 keeps a running sum (O(1)). Both sums
// are exact integers, so the two give the same average for every input stream.
#pragma once

#include <cstdint>

namespace tile_controller {

class MovingAverage {
 public:
  static constexpr uint32_t kWindow = 64;

  // Takes the newest temperature; once the window is full it replaces the oldest.
  void add(int64_t milli);
  // The average of the window; 0 before the first add().
  [[nodiscard]] int64_t average() const;

 private:
  int64_t values_[kWindow] = {};
  uint32_t next_ = 0;   // where the next value goes: the oldest once the window is full
  uint32_t count_ = 0;  // values in the window, at most kWindow
  int64_t running_sum_ = 0;  // v2 only: the sum of values_[0..count_)
};

}  // namespace tile_controller
