// Telemetry window: statistics of the inputs between two telemetry datagrams.
#include "telemetry_window.hpp"

#include "integer_math.hpp"

namespace tile_controller {

void TelemetryWindow::add(int64_t milli) {
  if (count_ == 0 || milli < min_) min_ = milli;
  if (count_ == 0 || milli > max_) max_ = milli;
  sum_ += milli;
  ++count_;
}

int64_t TelemetryWindow::mean() const {
  return count_ == 0 ? 0 : divide_rounded(sum_, static_cast<int64_t>(count_));
}

}  // namespace tile_controller
