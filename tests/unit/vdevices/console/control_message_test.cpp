// Tests for the console control messages: encoding towards the driver and each named check on
// messages from it.
#include "console/control_message.hpp"

#include <gtest/gtest.h>

namespace tilehv::vdevices::console {
namespace {

std::vector<std::uint8_t> header(std::uint32_t id, std::uint16_t event, std::uint16_t value) {
  return encode({id, static_cast<ControlEvent>(event), value}, "");
}

TEST(ControlMessage, EncodesLittleEndianWithTheNameAfterTheHeader) {
  EXPECT_EQ(encode({0x01020304, ControlEvent::kDeviceAdd, 1}, "ignored"),
            (std::vector<std::uint8_t>{4, 3, 2, 1, 1, 0, 1, 0}));
  EXPECT_EQ(encode({2, ControlEvent::kPortName, 1}, "ab"), (std::vector<std::uint8_t>{2, 0, 0, 0, 7, 0, 1, 0, 'a', 'b'}))
      << "no terminator: Linux takes the name's length from the used length";
}

TEST(ControlMessage, CheckMessageLength) {
  EXPECT_FALSE(check_message_length(8));
  EXPECT_EQ(check_message_length(7).value_or(""), "control message of 7 bytes, expected 8");
  EXPECT_TRUE(check_message_length(9));
  EXPECT_TRUE(check_message_length(0xffffffffffULL));
}

TEST(ControlMessage, CheckDriverEvent) {
  EXPECT_FALSE(check_driver_event(0));
  EXPECT_FALSE(check_driver_event(3));
  EXPECT_FALSE(check_driver_event(6));
  for (int e : {1, 2, 4, 5, 7}) {
    EXPECT_NE(check_driver_event(static_cast<std::uint16_t>(e)).value_or("").find("device to driver only"), std::string::npos) << e;
  }
  EXPECT_EQ(check_driver_event(8).value_or(""), "unknown control event 8");
  EXPECT_EQ(check_driver_event(0xffff).value_or(""), "unknown control event 65535");
}

TEST(ControlMessage, CheckMessageValue) {
  EXPECT_FALSE(check_message_value(3, 0));
  EXPECT_FALSE(check_message_value(3, 1));
  EXPECT_EQ(check_message_value(6, 0x100).value_or(""), "PORT_OPEN with value 256, expected 0 or 1");
}

TEST(ControlMessage, CheckMessagePort) {
  EXPECT_FALSE(check_message_port(0, kNoPort, 2)) << "DEVICE_READY names no port";
  EXPECT_FALSE(check_message_port(3, 1, 2));
  EXPECT_EQ(check_message_port(3, 2, 2).value_or(""), "PORT_READY for port 2, the device has 2 ports");
  EXPECT_TRUE(check_message_port(6, kNoPort, 2));
}

TEST(ControlMessage, ParsesWhatLinuxSends) {
  auto ready = parse_driver_message(header(kNoPort, 0, 1), 8, 4);
  ASSERT_TRUE(ready) << ready.error();
  EXPECT_EQ(ready->event, ControlEvent::kDeviceReady);
  EXPECT_TRUE(ready->value);
  auto open = parse_driver_message(header(3, 6, 0), 8, 4);
  ASSERT_TRUE(open) << open.error();
  EXPECT_EQ(open->port, 3U);
  EXPECT_EQ(open->event, ControlEvent::kPortOpen);
  EXPECT_FALSE(open->value);
}

TEST(ControlMessage, ParseReportsTheFirstFailingCheck) {
  EXPECT_EQ(parse_driver_message(header(9, 99, 5), 12, 4).error(), "control message of 12 bytes, expected 8");
  EXPECT_EQ(parse_driver_message(header(9, 99, 5), 8, 4).error(), "unknown control event 99");
  EXPECT_EQ(parse_driver_message(header(9, 3, 5), 8, 4).error(), "PORT_READY with value 5, expected 0 or 1");
  EXPECT_EQ(parse_driver_message(header(9, 3, 1), 8, 4).error(), "PORT_READY for port 9, the device has 4 ports");
  const std::vector<std::uint8_t> short_bytes = {0, 0, 0};
  EXPECT_EQ(parse_driver_message(short_bytes, 8, 4).error(), "control message truncated to 3 bytes");
}

TEST(ControlMessage, EventNames) {
  EXPECT_EQ(event_name(7), "PORT_NAME");
  EXPECT_EQ(event_name(8), "unknown");
}

}  // namespace
}  // namespace tilehv::vdevices::console
