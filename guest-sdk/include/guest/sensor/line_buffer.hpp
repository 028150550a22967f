// Sensor line buffer: reassembles the '\n'-terminated lines of a sensor stream from fragments of any
// size, in a fixed buffer. A line longer than the buffer is not kept: it is reported once, as
// overlong, when its newline arrives, so no line length can overrun anything.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/str_view.hpp>

namespace guest::sensor {

class LineBuffer {
 public:
  // The longest line of wire format v1 is an #error or #fault line: 200 message bytes plus its tag.
  static constexpr size_t kCapacity = 256;

  // Takes bytes up to and including the first '\n' in [data, data + size) and returns how many.
  // When one of them was that newline, `complete` is true and line() and overlong() describe the
  // line until the next call.
  size_t push(const uint8_t* data, size_t size, bool& complete);

  // The completed line without its '\n'; empty for an overlong one.
  [[nodiscard]] StrView line() const { return StrView(bytes_, overlong_ ? 0 : length_); }
  [[nodiscard]] bool overlong() const { return overlong_; }
  // Forgets a partly received line: after a port is reopened its rest never comes.
  void reset();

 private:
  char bytes_[kCapacity] = {};
  size_t length_ = 0;
  bool overlong_ = false;
  bool completed_ = false;  // the last push ended a line: the next byte starts a new one
};

}  // namespace guest::sensor
