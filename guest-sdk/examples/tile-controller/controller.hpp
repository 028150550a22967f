// Controller: what the tile controller computes for each input (a sample of the sensor's channel 0):
// the moving average, the PI step, the actuator command, and every K inputs the telemetry report.
// Pure integer state, no clock and no I/O: the outputs are a function of the input samples alone, so
// two runs on the same stream give the same bytes (and a host test can reason about them).
#pragma once

#include <cstdint>

#include "moving_average.hpp"
#include "pi_controller.hpp"
#include "telemetry_window.hpp"

namespace tile_controller {

// An inclusive range of temperatures in milli-°C.
struct Band {
  int64_t low = 0;
  int64_t high = 0;
  [[nodiscard]] bool contains(int64_t milli) const { return milli >= low && milli <= high; }
};

struct ControllerSettings {
  int64_t setpoint_milli = 21'000;
  uint64_t telemetry_every = 10;
  Band band;  // v3 only: where its valve is off
};

// One actuator command: "cmd seq=.. t=.. temp=.. avg=.. valve=..".
struct Command {
  uint64_t seq = 0;  // the input's number, from 1
  uint64_t timestamp_ns = 0;
  int64_t temperature_milli = 0;
  int64_t average_milli = 0;
  int64_t valve = 0;
};

// One telemetry report: "tel seq=.. n=.. min=.. max=.. mean=.. valve=..".
struct Telemetry {
  uint64_t seq = 0;  // the input that completed the window
  uint64_t count = 0;
  int64_t min_milli = 0;
  int64_t max_milli = 0;
  int64_t mean_milli = 0;
  int64_t valve = 0;  // of that input's command
};

class Controller {
 public:
  explicit Controller(const ControllerSettings& settings) : settings_(settings), pi_(settings.setpoint_milli) {}

  // Handles the next input and returns its command.
  Command on_input(uint64_t timestamp_ns, int64_t temperature_milli);
  // True, with the report, when the latest input completed a telemetry window; the next window
  // starts then.
  bool take_telemetry(Telemetry& out);

  [[nodiscard]] uint64_t inputs() const { return inputs_; }
  [[nodiscard]] const Command& last_command() const { return last_; }

 private:
  ControllerSettings settings_;
  MovingAverage average_;
  PiController pi_;
  TelemetryWindow telemetry_;
  uint64_t inputs_ = 0;
  Command last_;
};

}  // namespace tile_controller
