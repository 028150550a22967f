// Controller: one input in, one command out.
#include "controller.hpp"

#include "variant.hpp"

namespace tile_controller {

Command Controller::on_input(uint64_t timestamp_ns, int64_t temperature_milli) {
  ++inputs_;
  average_.add(temperature_milli);
  telemetry_.add(temperature_milli);
  Command command;
  command.seq = inputs_;
  command.timestamp_ns = timestamp_ns;
  command.temperature_milli = temperature_milli;
  command.average_milli = average_.average();
  command.valve = pi_.step(command.average_milli);
  if constexpr (variant::kBandBug) {
    // The planted bug: only the command sent is off, never the controller's state, so v3 diverges
    // from v1 on exactly the inputs in the band. Not clamped either, so even a fully open valve
    // diverges (1007).
    if (settings_.band.contains(temperature_milli)) command.valve += variant::kBandOffset;
  }
  last_ = command;
  return command;
}

bool Controller::take_telemetry(Telemetry& out) {
  if (telemetry_.count() < settings_.telemetry_every) return false;
  out.seq = inputs_;
  out.count = telemetry_.count();
  out.min_milli = telemetry_.min();
  out.max_milli = telemetry_.max();
  out.mean_milli = telemetry_.mean();
  out.valve = last_.valve;
  telemetry_.reset();
  return true;
}

}  // namespace tile_controller
