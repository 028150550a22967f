// Jail options: the `--jail uid=N,gid=N` value.
#include "jail/jail_options.hpp"

#include <gtest/gtest.h>

namespace tilehv::jail {
namespace {

TEST(JailOptionsTest, IdsParseInEitherOrderAndFormatBack) {
  const auto options = parse_jail_ids("uid=64000,gid=64001");
  ASSERT_TRUE(options) << options.error();
  EXPECT_EQ(options->uid, 64000u);
  EXPECT_EQ(options->gid, 64001u);
  EXPECT_EQ(parse_jail_ids("gid=7,uid=8")->uid, 8u);
  EXPECT_EQ(format_jail_ids(64000, 64001), "uid=64000,gid=64001");
}

TEST(JailOptionsTest, RootMissingDuplicateOrUnknownIdsAreRefused) {
  for (const char* bad : {"", "uid=1", "gid=1", "uid=0,gid=5", "uid=5,gid=0", "uid=4294967295,gid=5",
                          "uid=1,gid=1,uid=2", "uid=1,gid=1,mode=x", "uid=x,gid=1", "uid=-1,gid=1", "uid=1;gid=1",
                          "uid=1,gid=1,", "uid=99999999999,gid=1"}) {
    EXPECT_FALSE(parse_jail_ids(bad)) << bad;
  }
  EXPECT_NE(parse_jail_ids("uid=0,gid=5").error().find("root"), std::string::npos);
}

}  // namespace
}  // namespace tilehv::jail
