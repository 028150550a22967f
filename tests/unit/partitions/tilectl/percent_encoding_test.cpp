// Percent encoding of path segments and query values, checked against the server's own decoding.
#include "tilectl/percent_encoding.hpp"

#include <gtest/gtest.h>

#include "api/percent_decoding.hpp"

namespace tilehv::tilectl {
namespace {

TEST(PercentEncode, LeavesUnreservedCharactersAndEncodesTheRest) {
  EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode("a b/c&d=e+f#g?%"), "a%20b%2Fc%26d%3De%2Bf%23g%3F%25");
  EXPECT_EQ(percent_encode(std::string_view("\x00\xff", 2)), "%00%FF");
}

TEST(QueryString, EncodesNamesAndValuesInOrder) {
  EXPECT_EQ(query_string({}), "");
  EXPECT_EQ(query_string({{"name", "my policy.yaml"}, {"base_dir", "/srv/a&b"}}),
            "?name=my%20policy.yaml&base_dir=%2Fsrv%2Fa%26b");
}

TEST(QueryString, TheServerDecodesWhatWasEncoded) {
  const std::string value = "/tmp/odd dir/+plus&amp=eq%25#hash\xc3\xa9";
  auto parsed = api::parse_query(query_string({{"base_dir", value}}).substr(1));
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(parsed->at("base_dir"), value);
}

}  // namespace
}  // namespace tilehv::tilectl
