// Sensor line buffer: lines of a sensor stream from fragments of any size, bounded.
#include <guest/sensor/line_buffer.hpp>

namespace guest::sensor {

size_t LineBuffer::push(const uint8_t* data, size_t size, bool& complete) {
  if (completed_) reset();
  complete = false;
  size_t taken = 0;
  while (taken < size) {
    const uint8_t byte = data[taken++];
    if (byte == '\n') {
      completed_ = true;
      complete = true;
      break;
    }
    // Past the capacity only the newline matters: the line is reported overlong and skipped whole.
    if (length_ < kCapacity) {
      bytes_[length_++] = static_cast<char>(byte);
    } else {
      overlong_ = true;
    }
  }
  return taken;
}

void LineBuffer::reset() {
  length_ = 0;
  overlong_ = false;
  completed_ = false;
}

}  // namespace guest::sensor
