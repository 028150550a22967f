// LineSplitter: lines across chunk boundaries, and the bound on a line's length.
#include "tilectl/line_splitter.hpp"

#include <gtest/gtest.h>

namespace tilehv::tilectl {
namespace {

TEST(LineSplitter, JoinsLinesSplitAcrossChunks) {
  LineSplitter splitter(100);
  auto first = splitter.feed("{\"seq\":1}\n{\"se");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(*first, std::vector<std::string>{"{\"seq\":1}"});
  auto second = splitter.feed("q\":2}\n\n{\"seq\":3}");
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, (std::vector<std::string>{"{\"seq\":2}", ""}));
  EXPECT_EQ(splitter.rest(), "{\"seq\":3}");
}

TEST(LineSplitter, RefusesALineLongerThanTheBound) {
  LineSplitter splitter(8);
  EXPECT_TRUE(splitter.feed("12345678\n").has_value());
  EXPECT_TRUE(splitter.feed("1234").has_value());
  auto too_long = splitter.feed("56789");
  ASSERT_FALSE(too_long.has_value());
  EXPECT_NE(too_long.error().find("longer than 8 bytes"), std::string::npos);
}

TEST(LineSplitter, RefusesAnOverlongLineEvenWhenItEndsInTheSameChunk) {
  LineSplitter splitter(4);
  EXPECT_FALSE(splitter.feed("123456\nok\n").has_value());
}

}  // namespace
}  // namespace tilehv::tilectl
