// Sizes and CPU sets as a policy writes them.
#include "policy/values.hpp"

#include <gtest/gtest.h>

namespace tilehv::policy {
namespace {

TEST(PolicyValues, SizesNeedAUnit) {
  EXPECT_EQ(parse_size("64M"), 64ULL << 20);
  EXPECT_EQ(parse_size("1G"), 1ULL << 30);
  EXPECT_EQ(parse_size("512K"), 512ULL << 10);
  EXPECT_EQ(parse_size("2T"), 2ULL << 40);
  EXPECT_EQ(parse_size("3gib"), 3ULL << 30);
  EXPECT_EQ(parse_size("64"), std::nullopt);
  EXPECT_EQ(parse_size("64X"), std::nullopt);
  EXPECT_EQ(parse_size("M"), std::nullopt);
  EXPECT_EQ(parse_size("-1M"), std::nullopt);
  EXPECT_EQ(parse_size(" 1M"), std::nullopt);
  EXPECT_EQ(parse_size("16777216T"), std::nullopt);  // 2^64: one past the largest
  EXPECT_EQ(parse_size("16777215T"), 16777215ULL << 40);
}

TEST(PolicyValues, SizesPrintInTheirLargestExactUnit) {
  EXPECT_EQ(format_size(64ULL << 20), "64M");
  EXPECT_EQ(format_size(1ULL << 30), "1G");
  EXPECT_EQ(format_size(1536ULL << 20), "1536M");
  EXPECT_EQ(format_size(1000), "1000 bytes");
  EXPECT_EQ(format_size(0), "0 bytes");
}

TEST(PolicyValues, CpuSets) {
  EXPECT_EQ(parse_cpu_set("0-3,6"), (CpuSet{0, 1, 2, 3, 6}));
  EXPECT_EQ(parse_cpu_set("5"), CpuSet{5});
  EXPECT_EQ(parse_cpu_set("1023"), CpuSet{1023});
  for (const char* bad : {"", "3-1", "1,", ",1", "1, 2", "a", "1-", "-1", "01", "1024", "0-99999999999"}) {
    EXPECT_EQ(parse_cpu_set(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(format_cpu_set({0, 1, 2, 3, 6}), "0-3,6");
  EXPECT_EQ(format_cpu_set({}), "");
  EXPECT_EQ(format_cpu_set({1, 3, 4}), "1,3-4");
}

}  // namespace
}  // namespace tilehv::policy
