// Tests for decimal.hpp: exact fixed-point parsing and canonical formatting.
#include "sensors/decimal.hpp"

#include <gtest/gtest.h>

namespace tilehv::vdevices::sensors {
namespace {

TEST(SensorDecimal, ParsesMilliExactly) {
  EXPECT_EQ(parse_milli("21.5"), 21'500);
  EXPECT_EQ(parse_milli("21.512"), 21'512);
  EXPECT_EQ(parse_milli("-0.05"), -50);
  EXPECT_EQ(parse_milli("0"), 0);
  EXPECT_EQ(parse_milli("125"), 125'000);
}

TEST(SensorDecimal, RefusesWhatItWouldHaveToRound) {
  for (const char* bad : {"", "-", "1.", ".5", "1.2345", "+1", " 1", "1 ", "1e3", "0x10", "1,5", "--1",
                          "99999999999999999999"}) {
    EXPECT_FALSE(parse_milli(bad)) << bad;
  }
}

TEST(SensorDecimal, ParsesNanoForIioAttributes) {
  EXPECT_EQ(parse_fixed("0.000244140", 9), 244'140);
  EXPECT_EQ(parse_fixed("-2731.5", 9), -2'731'500'000'000);
  EXPECT_FALSE(parse_fixed("0.0000000001", 9));
}

TEST(SensorDecimal, ParsesUnsignedStrictly) {
  EXPECT_EQ(parse_u64("0"), 0u);
  EXPECT_EQ(parse_u64("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(parse_u64("18446744073709551616"));
  EXPECT_FALSE(parse_u64("01"));
  EXPECT_FALSE(parse_u64("-1"));
  EXPECT_FALSE(parse_u64(""));
}

TEST(SensorDecimal, FormatsCanonically) {
  EXPECT_EQ(format_milli(21'500), "21.500");
  EXPECT_EQ(format_milli(-50), "-0.050");
  EXPECT_EQ(format_milli(0), "0.000");
  EXPECT_EQ(format_milli(INT64_MIN), "-9223372036854775.808");
  EXPECT_EQ(parse_milli(format_milli(-123'456)), -123'456);
}

}  // namespace
}  // namespace tilehv::vdevices::sensors
