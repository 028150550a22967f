// Human units: sizes and durations as tables show them.
#include "tilectl/human_units.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace tilehv::tilectl {
namespace {

TEST(FormatBytes, WholeUnitsHaveNoDecimals) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(4096), "4 KiB");
  EXPECT_EQ(format_bytes(256ULL << 20), "256 MiB");
  EXPECT_EQ(format_bytes(2ULL << 30), "2 GiB");
}

TEST(FormatBytes, FractionsHaveOneDecimal) {
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes((3ULL << 30) / 2), "1.5 GiB");
  EXPECT_EQ(format_bytes(1025), "1.0 KiB");
}

TEST(FormatBytes, LargestValueStaysInTheLargestUnit) {
  EXPECT_EQ(format_bytes(std::numeric_limits<std::uint64_t>::max()), "16384.0 PiB");
}

TEST(FormatDuration, UsesTheTwoLargestUnits) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(42.9), "42s");
  EXPECT_EQ(format_duration(312), "5m12s");
  EXPECT_EQ(format_duration(3725.5), "1h02m");
  EXPECT_EQ(format_duration(2 * 86400 + 3 * 3600 + 59), "2d03h");
}

TEST(FormatDuration, NonsenseIsADash) {
  EXPECT_EQ(format_duration(-1), "-");
  EXPECT_EQ(format_duration(std::nan("")), "-");
  EXPECT_EQ(format_duration(std::numeric_limits<double>::infinity()), "-");
  EXPECT_EQ(format_duration(1e300), "-");
}

}  // namespace
}  // namespace tilehv::tilectl
