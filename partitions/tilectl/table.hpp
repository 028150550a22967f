// Table: the columns of tilectl's human output, aligned, with a header row. Cells hold text from the
// daemon, which holds text from policies: printable() keeps it from steering the terminal.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tilehv::tilectl {

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // A row with one cell per header; missing cells are blank. More cells than headers is a
  // programming error (std::invalid_argument).
  void add_row(std::vector<std::string> cells);

  [[nodiscard]] bool empty() const noexcept { return rows_.empty(); }

  // Header and rows, columns two spaces apart, each line ending in '\n', no trailing spaces.
  [[nodiscard]] std::string render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// `text` with control characters (C0, DEL, and the C1 range's lead bytes cannot occur in valid UTF-8
// text anyway) replaced by '?', so that escape sequences and newlines in names and messages print as
// text instead of acting on the terminal or breaking the columns.
[[nodiscard]] std::string printable(std::string_view text);

// Columns a string takes on a terminal: UTF-8 code points (wide characters counted as one).
[[nodiscard]] std::size_t display_width(std::string_view text);

}  // namespace tilehv::tilectl
