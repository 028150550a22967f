// Tests for parse_command: the two commands and every way a guest can get them wrong.
#include "sensors/command.hpp"

#include <gtest/gtest.h>

namespace tilehv::vdevices::sensors {
namespace {

TEST(SensorCommand, ParsesRateAndDescribe) {
  auto rate = parse_command("rate temperature 2500");
  ASSERT_TRUE(rate);
  EXPECT_EQ(std::get<RateCommand>(*rate).channel, "temperature");
  EXPECT_EQ(std::get<RateCommand>(*rate).rate_mhz, 2'500u);
  auto spaced = parse_command("  rate\t0   100 ");
  ASSERT_TRUE(spaced);
  EXPECT_EQ(std::get<RateCommand>(*spaced).channel, "0");
  EXPECT_TRUE(std::holds_alternative<DescribeCommand>(*parse_command("describe")));
}

TEST(SensorCommand, RefusesMalformedLinesWithAReason) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "empty command; expected rate or describe"},
      {"   ", "empty command; expected rate or describe"},
      {"reboot now", "unknown command \"reboot\"; expected rate or describe"},
      {"RATE 0 1000", "unknown command \"RATE\"; expected rate or describe"},
      {"rate", "expected: rate <channel> <millihertz>"},
      {"rate 0", "expected: rate <channel> <millihertz>"},
      {"rate 0 1000 now", "expected: rate <channel> <millihertz>"},
      {"rate 0 1.5", "expected a rate in millihertz (an unsigned integer), found \"1.5\""},
      {"rate 0 -1", "expected a rate in millihertz (an unsigned integer), found \"-1\""},
      {"rate 0 99999999999999999999", "expected a rate in millihertz (an unsigned integer), found \"99999999999999999999\""},
      {"describe all", "describe takes no arguments"},
      {std::string("rate 0 1\0", 9), "command holds the byte 0x00; commands are printable ASCII"},
      {"rate 0 \x1b[2J", "command holds the byte 0x1b; commands are printable ASCII"},
      {"r\xc3\xa4te", "command holds the byte 0xc3; commands are printable ASCII"},
  };
  for (const auto& [line, message] : cases) {
    auto parsed = parse_command(line);
    ASSERT_FALSE(parsed) << line;
    EXPECT_EQ(parsed.error(), message) << line;
  }
}

}  // namespace
}  // namespace tilehv::vdevices::sensors
