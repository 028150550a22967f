// Sensor errors: the one error type of the sensors module, a category plus a message naming the problem.
#pragma once

#include <string>

namespace tilehv::vdevices::sensors {

enum class ErrorKind {
  invalid_argument,  // a caller passed a bad name, rate or option
  trace,             // a trace file is malformed: the message names file, line and column
  io,                // the host could not read a file (trace, sysfs)
  not_found,         // a requested IIO device or channel is absent
  refused,           // a guest request outside policy (a rate out of bounds)
  state,             // a saved state record does not fit this sensor
};

struct Error {
  ErrorKind kind;
  std::string message;
};

}  // namespace tilehv::vdevices::sensors
