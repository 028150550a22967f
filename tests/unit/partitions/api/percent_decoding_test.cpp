// Tests for percent decoding and query strings: escapes decoded, bad escapes and duplicates refused.
#include "api/percent_decoding.hpp"

#include <gtest/gtest.h>

namespace tilehv::api {
namespace {

TEST(PercentDecodingTest, DecodesEscapesAndPlusOnlyInQueries) {
  EXPECT_EQ(*percent_decode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(*percent_decode("a+b", false), "a+b");
  EXPECT_EQ(*percent_decode("a+b", true), "a b");
  EXPECT_EQ(*percent_decode("%e2%82%AC", false), "\xe2\x82\xac");
}

TEST(PercentDecodingTest, RefusesBadEscapes) {
  for (const char* bad : {"%", "a%2", "%zz", "%2g", "x%00y"}) {
    const auto decoded = percent_decode(bad, false);
    ASSERT_FALSE(decoded) << bad;
    EXPECT_NE(decoded.error().find("offset"), std::string::npos) << decoded.error();
  }
}

TEST(PercentDecodingTest, ParsesQueries) {
  const auto query = parse_query("watch=1&name=a%20b&&flag&x=%2F");
  ASSERT_TRUE(query) << query.error();
  EXPECT_EQ(query->at("watch"), "1");
  EXPECT_EQ(query->at("name"), "a b");
  EXPECT_EQ(query->at("flag"), "");
  EXPECT_EQ(query->at("x"), "/");
  EXPECT_EQ(query->size(), 4U);
}

TEST(PercentDecodingTest, RefusesDuplicatesNamelessAndTooManyParameters) {
  EXPECT_NE(parse_query("a=1&a=2").error().find("'a' given twice"), std::string::npos);
  EXPECT_FALSE(parse_query("=1"));
  EXPECT_FALSE(parse_query("a=%G1"));
  std::string many;
  for (std::size_t i = 0; i <= kMaxQueryParameters; ++i) many += "p" + std::to_string(i) + "=1&";
  EXPECT_NE(parse_query(many).error().find("more than"), std::string::npos);
}

}  // namespace
}  // namespace tilehv::api
