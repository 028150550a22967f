// LineSplitter: the lines of a stream whose chunks end anywhere (an events stream: one JSON object
// per line, but a chunk boundary may fall mid-line), with a bound on how long a line may grow.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace tilehv::tilectl {

class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // The lines `chunk` completes, without their '\n'. An error once a line grows past the bound
  // without ending: a stream like that is broken, and buffering it would cost unbounded memory.
  [[nodiscard]] tl::expected<std::vector<std::string>, std::string> feed(std::string_view chunk);

  // What is left after the last '\n' (a stream that ended mid-line).
  [[nodiscard]] const std::string& rest() const noexcept { return pending_; }

 private:
  std::size_t max_line_bytes_;
  std::string pending_;
};

}  // namespace tilehv::tilectl
