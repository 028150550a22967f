// LineSplitter: turns a byte stream that arrives in arbitrary pieces into its lines, so that a
// sensor stream's samples and a guest's commands become one record each for a shadow's comparator.
// A line longer than kMaxLine is cut there (and the cut counted as a line): memory stays bounded
// whatever a guest writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tilehv::ioplane {

class LineSplitter {
 public:
  static constexpr std::size_t kMaxLine = 4096;

  // Calls `line(std::span<const std::uint8_t>)` for each line completed by `bytes`, without its newline.
  template <typename OnLine>
  void feed(std::span<const std::uint8_t> bytes, OnLine&& line) {
    for (std::uint8_t c : bytes) {
      if (c == '\n' || partial_.size() == kMaxLine) {
        line(std::span<const std::uint8_t>(partial_));
        partial_.clear();
        if (c == '\n') continue;
      }
      partial_.push_back(c);
    }
  }

 private:
  std::vector<std::uint8_t> partial_;
};

}  // namespace tilehv::ioplane
