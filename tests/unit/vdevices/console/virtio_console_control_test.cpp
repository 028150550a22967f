// Tests for VirtioConsole's control protocol under a hostile driver: every malformed message and
// misused buffer sets DEVICE_NEEDS_RESET with a message naming it, and the driver can recover.
#include <gtest/gtest.h>

#include "console_guest.hpp"

namespace tilehv::vdevices {
namespace {

using testing::ConsoleGuest;
using testing::kEvAdd;
using testing::kEvOpen;
using testing::kEvReady;

class ConsoleControlTest : public ::testing::Test {
 protected:
  ConsoleControlTest() : g_({{"console", true}, {"echo"}, {"log"}}) {}

  void SetUp() override { ASSERT_TRUE(g_.bring_up()) << g_.error(); }

  // The device refused with a message containing `what`, and a reset plus the handshake works again.
  void expect_refused(const std::string& what) {
    EXPECT_TRUE(g_.needs_reset()) << "expected an error containing: " << what;
    EXPECT_NE(g_.error().find(what), std::string::npos) << g_.error();
    EXPECT_NE(g_.driver().interrupt_status() & 2, 0U) << "configuration change notification";
    ASSERT_TRUE(g_.bring_up()) << g_.error();
    EXPECT_EQ(g_.linux_handshake().size(), 10U);
    EXPECT_FALSE(g_.needs_reset()) << g_.error();
  }

  testing::ConsoleGuest g_;
};

TEST_F(ConsoleControlTest, PortIdBeyondTheDevice) {
  g_.linux_handshake();
  g_.send_control(7, kEvReady, 1);
  expect_refused("PORT_READY for port 7, the device has 3 ports");
}

TEST_F(ConsoleControlTest, PortOpenForTheBadIdLinuxUsesForDeviceReady) {
  g_.linux_handshake();
  g_.send_control(console::kNoPort, kEvOpen, 1);
  expect_refused("PORT_OPEN for port 4294967295");
}

TEST_F(ConsoleControlTest, ShortMessage) {
  g_.send_raw_control({{g_.put("\xff\xff\xff\xff"), 4, false}});
  expect_refused("control message of 4 bytes, expected 8");
}

TEST_F(ConsoleControlTest, LongMessage) {
  g_.send_raw_control({{g_.put(std::string(12, '\0')), 12, false}});
  expect_refused("control message of 12 bytes, expected 8");
}

TEST_F(ConsoleControlTest, EmptyChain) {
  // A chain of one zero-length descriptor: no bytes at all.
  g_.send_raw_control({{g_.allocate(8), 0, false}});
  expect_refused("control message of 0 bytes");
}

TEST_F(ConsoleControlTest, MessageSplitAcrossBuffersIsFine) {
  const std::string ready("\xff\xff\xff\xff\x00\x00\x01\x00", 8);  // DEVICE_READY, value 1
  g_.add_control_buffers(16);
  g_.send_raw_control({{g_.put(ready.substr(0, 3)), 3, false}, {g_.put(ready.substr(3)), 5, false}});
  EXPECT_FALSE(g_.needs_reset()) << g_.error();
  EXPECT_EQ(g_.receive_control().size(), 10U);
}

TEST_F(ConsoleControlTest, UnknownEvent) {
  g_.send_control(0, 42, 1);
  expect_refused("unknown control event 42");
}

TEST_F(ConsoleControlTest, DeviceToDriverEventFromTheDriver) {
  g_.send_control(0, kEvAdd, 1);
  expect_refused("control event 1 (DEVICE_ADD) goes from device to driver only");
}

TEST_F(ConsoleControlTest, ValueOutOfRange) {
  g_.linux_handshake();
  g_.send_control(1, kEvOpen, 2);
  expect_refused("PORT_OPEN with value 2, expected 0 or 1");
}

TEST_F(ConsoleControlTest, PortMessageBeforeDeviceReady) {
  g_.send_control(1, kEvReady, 1);
  expect_refused("PORT_READY for port 1 before DEVICE_READY");
}

TEST_F(ConsoleControlTest, WritableBufferInTheControlTransmitQueue) {
  g_.send_raw_control({{g_.put(std::string(8, '\0')), 8, false}, {g_.allocate(8), 8, true}});
  expect_refused("control transmit chain 0 has 8 device-writable bytes");
}

TEST_F(ConsoleControlTest, DeviceReadableBufferInTheControlReceiveQueue) {
  // The driver offers a buffer the device may only read: the device must not write its message there.
  const std::uint64_t canary = g_.put("canary!!");
  g_.ring(2).add({{canary, 8, false}});
  g_.send_control(console::kNoPort, 0, 1);
  EXPECT_EQ(g_.get(canary, 8), "canary!!");
  expect_refused("control receive chain 0 has 8 device-readable bytes");
}

TEST_F(ConsoleControlTest, ControlReceiveBufferTooSmallForTheName) {
  g_.add_control_buffers(1, 64);
  g_.add_control_buffers(1, 10);  // DEVICE_ADD fits, "console" does not: 8 + 7 bytes
  g_.send_control(console::kNoPort, 0, 1);
  expect_refused("control receive chain 1 holds 10 bytes, the PORT_NAME message needs 15");
}

TEST_F(ConsoleControlTest, DeviceReadableBufferInAPortReceiveQueue) {
  g_.linux_handshake(0);
  g_.send_control(1, kEvOpen, 1);
  const std::uint64_t canary = g_.put("canary!!");
  g_.ring(VirtioConsole::receive_queue(2)).add({{canary, 8, false}});
  g_.send_control(2, kEvOpen, 1);  // opening the port makes the device look at its receive queue
  EXPECT_EQ(g_.get(canary, 8), "canary!!");
  expect_refused("receive chain 0 of port 2 has 8 device-readable and 0 device-writable bytes");
}

TEST_F(ConsoleControlTest, WritableBufferInAPortTransmitQueue) {
  g_.linux_handshake();
  g_.ring(VirtioConsole::transmit_queue(1)).add({{g_.put("data"), 4, false}, {g_.allocate(4), 4, true}});
  g_.driver().notify(VirtioConsole::transmit_queue(1));
  expect_refused("transmit chain 0 of port 1 has 4 device-writable bytes");
}

TEST_F(ConsoleControlTest, BrokenReceiveQueueFoundOnABackendWakeUp) {
  g_.linux_handshake(0);
  g_.send_control(1, kEvOpen, 1);
  g_.ring(VirtioConsole::receive_queue(1)).make_available(200);  // a head beyond the queue
  g_.backend(1).send("x");
  g_.wake(1);
  expect_refused("queue 4: available ring slot 0 names descriptor 200");
}

TEST_F(ConsoleControlTest, DeviceReadyFailureAndRepeatsAnnounceNothingTwice) {
  g_.add_control_buffers(32);
  g_.send_control(console::kNoPort, 0, 0);  // the driver failed
  EXPECT_TRUE(g_.receive_control().empty());
  g_.send_control(console::kNoPort, 0, 1);
  EXPECT_EQ(g_.receive_control().size(), 10U);
  g_.send_control(console::kNoPort, 0, 1);
  EXPECT_TRUE(g_.receive_control().empty()) << "spec 5.3.6.2: never add a port that exists";
  EXPECT_FALSE(g_.needs_reset()) << g_.error();
}

TEST_F(ConsoleControlTest, PortReadyFailureIsRecorded) {
  g_.add_control_buffers(32);
  g_.send_control(console::kNoPort, 0, 1);
  g_.send_control(2, kEvReady, 0);
  EXPECT_FALSE(g_.device().port_status(2).guest_ready);
  EXPECT_FALSE(g_.needs_reset()) << g_.error();
}

TEST(ConsoleControlActivation, MultiportWithoutControlQueuesIsRefused) {
  ConsoleGuest g({{"a"}});
  ASSERT_TRUE(g.driver().negotiate(testing::kConsoleFeatures));
  g.driver().setup_queue(0, g.ring(0).layout());
  g.driver().setup_queue(1, g.ring(1).layout());
  g.driver().driver_ok();
  EXPECT_TRUE(g.needs_reset());
  EXPECT_NE(g.error().find("control queues (2, 3) are not ready"), std::string::npos) << g.error();
}

}  // namespace
}  // namespace tilehv::vdevices
