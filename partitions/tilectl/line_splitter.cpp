// LineSplitter: splitting chunks into bounded lines.
#include "tilectl/line_splitter.hpp"

#include <fmt/format.h>

namespace tilehv::tilectl {

tl::expected<std::vector<std::string>, std::string> LineSplitter::feed(std::string_view chunk) {
  std::vector<std::string> lines;
  while (!chunk.empty()) {
    const auto end = chunk.find('\n');
    if (end == std::string_view::npos) {
      pending_.append(chunk);
      break;
    }
    pending_.append(chunk.substr(0, end));
    chunk.remove_prefix(end + 1);
    if (pending_.size() > max_line_bytes_) break;
    lines.push_back(std::move(pending_));
    pending_.clear();
  }
  if (pending_.size() > max_line_bytes_) {
    return tl::unexpected(fmt::format("a line of the stream is longer than {} bytes", max_line_bytes_));
  }
  return lines;
}

}  // namespace tilehv::tilectl
