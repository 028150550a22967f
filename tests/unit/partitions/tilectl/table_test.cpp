// Table: alignment, blank cells and text that must not act on the terminal.
#include "tilectl/table.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

namespace tilehv::tilectl {
namespace {

TEST(Table, AlignsColumnsTwoSpacesApartWithoutTrailingSpaces) {
  Table table({"NAME", "STATE", "PID"});
  table.add_row({"web", "running", "4242"});
  table.add_row({"a-long-name", "stopped", ""});
  EXPECT_EQ(table.render(),
            "NAME         STATE    PID\n"
            "web          running  4242\n"
            "a-long-name  stopped\n");
}

TEST(Table, MissingCellsAreBlankAndExtraCellsAreRefused) {
  Table table({"A", "B"});
  table.add_row({"x"});
  EXPECT_EQ(table.render(), "A  B\nx\n");
  EXPECT_THROW(table.add_row({"1", "2", "3"}), std::invalid_argument);
}

TEST(Table, ControlCharactersInCellsArePrintedAsQuestionMarks) {
  Table table({"NAME"});
  table.add_row({"evil\x1b[2J\nname\x7f"});
  EXPECT_EQ(table.render(), "NAME\nevil?[2J?name?\n");
}

TEST(Table, WidthCountsCodePointsNotBytes) {
  Table table({"N", "X"});
  table.add_row({"\xc3\xa9t\xc3\xa9", "1"});  // "été": 3 columns, 5 bytes
  table.add_row({"abcd", "2"});
  EXPECT_EQ(table.render(), "N     X\n\xc3\xa9t\xc3\xa9   1\nabcd  2\n");
}

TEST(Printable, KeepsUtf8AndTabsBecomeQuestionMarks) {
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(printable("a\tb"), "a?b");
  EXPECT_EQ(display_width("caf\xc3\xa9"), 4u);
}

}  // namespace
}  // namespace tilehv::tilectl
