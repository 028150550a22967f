// Tests for DebugExit: the isa-debug-exit compatible guest exit port.
#include "debug_exit/debug_exit.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace tilehv::vdevices {
namespace {

// Test collaborator: records what the device asked of the VMM.
class RecordingPower final : public PowerEvents {
 public:
  void guest_exit(std::uint32_t value) noexcept override { exits.push_back(value); }
  void guest_reset() noexcept override { ++resets; }
  std::vector<std::uint32_t> exits;
  int resets = 0;
};

class DebugExitTest : public ::testing::Test {
 protected:
  RecordingPower power;
  DebugExit port{power};
};

TEST_F(DebugExitTest, ByteWriteExitsWithThatValue) {
  const std::array<std::uint8_t, 1> v{0x2a};
  port.pio_write(0, v);
  EXPECT_EQ(power.exits, (std::vector<std::uint32_t>{0x2a}));
  EXPECT_EQ(power.resets, 0);
}

TEST_F(DebugExitTest, WordWriteIsLittleEndian) {
  const std::array<std::uint8_t, 2> v{0x34, 0x12};
  port.pio_write(0, v);
  EXPECT_EQ(power.exits, (std::vector<std::uint32_t>{0x1234}));
}

TEST_F(DebugExitTest, DwordWriteIsLittleEndian) {
  const std::array<std::uint8_t, 4> v{0x78, 0x56, 0x34, 0x12};
  port.pio_write(0, v);
  EXPECT_EQ(power.exits, (std::vector<std::uint32_t>{0x12345678}));
}

TEST_F(DebugExitTest, FullRangeValuesSurvive) {
  const std::array<std::uint8_t, 4> all_ones{0xff, 0xff, 0xff, 0xff};
  port.pio_write(0, all_ones);
  const std::array<std::uint8_t, 4> zero{0, 0, 0, 0};
  port.pio_write(0, zero);
  const std::array<std::uint8_t, 1> high_byte{0x80};
  port.pio_write(0, high_byte);
  EXPECT_EQ(power.exits, (std::vector<std::uint32_t>{0xffffffffU, 0, 0x80}));
}

TEST_F(DebugExitTest, EveryOffsetInTheRangeTakesTheValueAsWritten) {
  for (std::uint16_t offset = 0; offset < DebugExit::kPortCount; ++offset) {
    const std::array<std::uint8_t, 1> v{static_cast<std::uint8_t>(0x10 + offset)};
    port.pio_write(offset, v);
  }
  EXPECT_EQ(power.exits, (std::vector<std::uint32_t>{0x10, 0x11, 0x12, 0x13}));
}

TEST_F(DebugExitTest, BytesBeyondFourAreIgnored) {
  const std::array<std::uint8_t, 8> v{0x01, 0x02, 0x03, 0x04, 0xee, 0xee, 0xee, 0xee};
  port.pio_write(0, v);
  EXPECT_EQ(power.exits, (std::vector<std::uint32_t>{0x04030201}));
}

TEST_F(DebugExitTest, EachWriteIsReported) {
  const std::array<std::uint8_t, 1> a{1};
  const std::array<std::uint8_t, 1> b{2};
  port.pio_write(0, a);
  port.pio_write(0, b);
  EXPECT_EQ(power.exits, (std::vector<std::uint32_t>{1, 2}));
}

TEST_F(DebugExitTest, ReadsReturnZeroAndEndNothing) {
  for (std::size_t width : {1U, 2U, 4U}) {
    for (std::uint16_t offset = 0; offset < DebugExit::kPortCount; ++offset) {
      std::array<std::uint8_t, 4> buf{0xaa, 0xaa, 0xaa, 0xaa};
      port.pio_read(offset, std::span<std::uint8_t>(buf).first(width));
      for (std::size_t i = 0; i < width; ++i) EXPECT_EQ(buf[i], 0) << "width " << width << " offset " << offset;
      for (std::size_t i = width; i < buf.size(); ++i) EXPECT_EQ(buf[i], 0xaa) << "read beyond its span";
    }
  }
  EXPECT_TRUE(power.exits.empty());
  EXPECT_EQ(power.resets, 0);
}

TEST_F(DebugExitTest, StateIsEmptyAndRoundTrips) {
  const DeviceState s = port.save_state();
  EXPECT_EQ(s.kind, "debug-exit");
  EXPECT_EQ(s.version, 1);
  EXPECT_TRUE(s.payload.empty());
  RecordingPower other_power;
  DebugExit other(other_power);
  EXPECT_TRUE(other.restore_state(s).has_value());
  EXPECT_TRUE(other_power.exits.empty()) << "restoring must not end the partition";
}

TEST_F(DebugExitTest, RestoreRefusesForeignOrMalformedState) {
  const DeviceState good = port.save_state();
  DeviceState wrong_kind = good;
  wrong_kind.kind = "i8042";
  DeviceState version0 = good;
  version0.version = 0;
  DeviceState version2 = good;
  version2.version = 2;
  DeviceState with_payload = good;
  with_payload.payload = {0};
  for (const DeviceState& bad : {wrong_kind, version0, version2, with_payload}) {
    const auto r = port.restore_state(bad);
    ASSERT_FALSE(r.has_value()) << bad.kind << " v" << bad.version;
    EXPECT_FALSE(r.error().message.empty());
  }
  EXPECT_TRUE(power.exits.empty());
}

}  // namespace
}  // namespace tilehv::vdevices
