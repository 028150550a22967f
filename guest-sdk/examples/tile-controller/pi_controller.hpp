// PI controller: turns the averaged temperature into a heating valve position, in integers.
//
//   error    = setpoint - average                      (milli-°C; positive: too cold, open up)
//   integral = clamp(integral + error, ±kIntegralLimit)  (once per input)
//   valve    = clamp(error / kProportionalDivisor + integral / kIntegralDivisor, 0, kValveMax)
//
// The integral is clamped so that its term alone can at most drive the valve from closed to fully
// open: a long stretch of error (a cold start) cannot wind it up far beyond what the valve can do,
// and the controller answers at once when the error changes sign.
#pragma once

#include <cstdint>

namespace tile_controller {

class PiController {
 public:
  static constexpr int64_t kValveMax = 1000;  // per mille open
  // Gains as divisors, so they stay exact: 2 °C of error alone opens the valve fully, and the
  // integral term moves it by 1/64 of the error per input.
  static constexpr int64_t kProportionalDivisor = 2;
  static constexpr int64_t kIntegralDivisor = 64;
  static constexpr int64_t kIntegralLimit = kValveMax * kIntegralDivisor;

  explicit PiController(int64_t setpoint_milli) : setpoint_(setpoint_milli) {}

  // One step for one input: the valve position, 0..kValveMax.
  int64_t step(int64_t average_milli);
  [[nodiscard]] int64_t integral() const { return integral_; }

 private:
  int64_t setpoint_;
  int64_t integral_ = 0;
};

}  // namespace tile_controller
