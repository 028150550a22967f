// PI controller: one integer step per input.
#include "pi_controller.hpp"

#include "integer_math.hpp"

namespace tile_controller {

int64_t PiController::step(int64_t average_milli) {
  const int64_t error = setpoint_ - average_milli;
  integral_ = clamp(integral_ + error, -kIntegralLimit, kIntegralLimit);
  // Divisions truncate toward zero; what matters is that every variant does the very same ones.
  const int64_t output = error / kProportionalDivisor + integral_ / kIntegralDivisor;
  return clamp(output, 0, kValveMax);
}

}  // namespace tile_controller
