// Tests for I8042: the PC keyboard controller as guests use it (reset line, control byte, self-test).
#include "i8042/i8042.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

namespace tilehv::vdevices {
namespace {

constexpr std::uint16_t kData = 0;    // port 0x60
constexpr std::uint16_t kStatus = 4;  // port 0x64: status on read, command on write

constexpr int kObf = 0x01;
constexpr int kSystem = 0x04;
constexpr int kCommandFlag = 0x08;

// Test collaborator: records what the device asked of the VMM.
class RecordingPower final : public PowerEvents {
 public:
  void guest_exit(std::uint32_t value) noexcept override { exits.push_back(value); }
  void guest_reset() noexcept override { ++resets; }
  std::vector<std::uint32_t> exits;
  int resets = 0;
};

int read_port(I8042& dev, std::uint16_t offset) {
  std::array<std::uint8_t, 1> b{0x5a};
  dev.pio_read(offset, b);
  return b[0];
}

void write_port(I8042& dev, std::uint16_t offset, std::uint8_t value) {
  const std::array<std::uint8_t, 1> b{value};
  dev.pio_write(offset, b);
}

class I8042Test : public ::testing::Test {
 protected:
  int read(std::uint16_t offset) { return read_port(kbc, offset); }
  void write(std::uint16_t offset, std::uint8_t value) { write_port(kbc, offset, value); }
  void command(std::uint8_t cmd) { write(kStatus, cmd); }

  RecordingPower power;
  I8042 kbc{power};
};

TEST_F(I8042Test, StartsWithSystemFlagAndNothingToRead) {
  EXPECT_EQ(read(kStatus), kSystem);
  EXPECT_EQ(read(kData), 0);
  EXPECT_EQ(read(kStatus), kSystem);
}

TEST_F(I8042Test, PulseResetCommandResetsTheGuest) {
  command(0xfe);
  EXPECT_EQ(power.resets, 1);
  EXPECT_TRUE(power.exits.empty());
  command(0xfe);
  EXPECT_EQ(power.resets, 2);
}

TEST_F(I8042Test, WideResetWriteUsesItsFirstByte) {
  const std::array<std::uint8_t, 2> v{0xfe, 0x00};
  kbc.pio_write(kStatus, v);
  EXPECT_EQ(power.resets, 1);
  const std::array<std::uint8_t, 2> not_reset{0x00, 0xfe};
  kbc.pio_write(kStatus, not_reset);
  EXPECT_EQ(power.resets, 1);
}

TEST_F(I8042Test, ResetValueElsewhereDoesNotReset) {
  write(kData, 0xfe);  // a keyboard command byte, not a controller command
  for (std::uint16_t offset : {std::uint16_t{1}, std::uint16_t{2}, std::uint16_t{3}, std::uint16_t{5},
                               std::uint16_t{0xffff}}) {
    write(offset, 0xfe);
  }
  command(0xfd);
  command(0xff);
  EXPECT_EQ(power.resets, 0);
}

TEST_F(I8042Test, EmptyAccessesDoNothing) {
  kbc.pio_write(kStatus, std::span<const std::uint8_t>{});
  kbc.pio_read(kData, std::span<std::uint8_t>{});
  EXPECT_EQ(power.resets, 0);
  EXPECT_EQ(read(kStatus), kSystem);
}

TEST_F(I8042Test, SelfTestAnswers55) {
  command(0xaa);
  EXPECT_EQ(read(kStatus), kSystem | kCommandFlag | kObf);
  EXPECT_EQ(read(kData), 0x55);
  EXPECT_EQ(read(kStatus) & kObf, 0) << "reading the data port empties the output buffer";
}

TEST_F(I8042Test, ReadsTheDefaultControlByte) {
  command(0x20);
  EXPECT_EQ(read(kStatus) & kObf, kObf);
  EXPECT_EQ(read(kData), 0x01);
  EXPECT_EQ(read(kStatus) & kObf, 0);
}

TEST_F(I8042Test, WritesAndReadsBackTheControlByte) {
  command(0x60);
  EXPECT_EQ(read(kStatus) & kCommandFlag, kCommandFlag) << "last write went to the command port";
  write(kData, 0x47);
  EXPECT_EQ(read(kStatus), kSystem) << "control byte write: no output, command flag cleared";
  command(0x20);
  EXPECT_EQ(read(kData), 0x47);
}

TEST_F(I8042Test, OnlyTheFirstDataWriteAfter60IsTheControlByte) {
  command(0x60);
  write(kData, 0x22);
  write(kData, 0xf4);  // keyboard "enable scanning": acknowledged, does not change the control byte
  EXPECT_EQ(read(kStatus) & kObf, kObf);
  EXPECT_EQ(read(kData), 0xfa);
  command(0x20);
  EXPECT_EQ(read(kData), 0x22);
}

TEST_F(I8042Test, KeyboardCommandsAreAcknowledged) {
  write(kData, 0xff);
  EXPECT_EQ(read(kStatus), kSystem | kObf);
  EXPECT_EQ(read(kData), 0xfa);
  EXPECT_EQ(read(kStatus), kSystem);
}

TEST_F(I8042Test, NewOutputReplacesUnreadOutput) {
  command(0xaa);
  command(0x20);
  EXPECT_EQ(read(kData), 0x01);
  EXPECT_EQ(read(kStatus) & kObf, 0);
}

TEST_F(I8042Test, PortsBetweenDataAndStatusReadZero) {
  command(0xaa);  // output pending: must not leak through other ports
  for (std::uint16_t offset : {std::uint16_t{1}, std::uint16_t{2}, std::uint16_t{3}}) {
    EXPECT_EQ(read(offset), 0) << offset;
  }
  EXPECT_EQ(read(kStatus) & kObf, kObf) << "reading other ports leaves the output buffer full";
}

TEST_F(I8042Test, WideReadsPutTheRegisterInTheLowByte) {
  command(0xaa);
  std::array<std::uint8_t, 4> buf{0xee, 0xee, 0xee, 0xee};
  kbc.pio_read(kStatus, buf);
  EXPECT_EQ(buf, (std::array<std::uint8_t, 4>{kSystem | kCommandFlag | kObf, 0, 0, 0}));
  std::array<std::uint8_t, 2> two{0xee, 0xee};
  kbc.pio_read(kData, two);
  EXPECT_EQ(two, (std::array<std::uint8_t, 2>{0x55, 0}));
}

// ---- saved state ----

TEST_F(I8042Test, SavedStateNamesKindAndVersion) {
  const DeviceState s = kbc.save_state();
  EXPECT_EQ(s.kind, "i8042");
  EXPECT_EQ(s.version, 1);
}

TEST_F(I8042Test, RoundTripKeepsPendingOutput) {
  command(0x60);
  write(kData, 0x61);
  command(0xaa);
  const DeviceState saved = kbc.save_state();

  RecordingPower other_power;
  I8042 copy(other_power);
  ASSERT_TRUE(copy.restore_state(saved).has_value());
  EXPECT_EQ(copy.save_state().payload, saved.payload);
  EXPECT_EQ(read_port(copy, kStatus), kSystem | kCommandFlag | kObf);
  EXPECT_EQ(read_port(copy, kData), 0x55);
  write_port(copy, kStatus, 0x20);
  EXPECT_EQ(read_port(copy, kData), 0x61);
  EXPECT_EQ(other_power.resets, 0);
}

TEST_F(I8042Test, RoundTripKeepsAHalfWrittenControlByte) {
  command(0x60);  // the guest is between the command and its data byte
  const DeviceState saved = kbc.save_state();
  RecordingPower other_power;
  I8042 copy(other_power);
  ASSERT_TRUE(copy.restore_state(saved).has_value());
  write_port(copy, kData, 0x33);
  EXPECT_EQ(read_port(copy, kStatus) & kObf, 0) << "taken as the control byte, not acknowledged";
  write_port(copy, kStatus, 0x20);
  EXPECT_EQ(read_port(copy, kData), 0x33);
}

TEST_F(I8042Test, RestoreKeepsTheSystemFlag) {
  StateWriter w;
  w.u8(0x00), w.u8(0x01), w.u8(0x00), w.boolean(false);
  ASSERT_TRUE(kbc.restore_state(DeviceState{"i8042", 1, w.take()}).has_value());
  EXPECT_EQ(read(kStatus), kSystem);
}

class I8042RefusalTest : public I8042Test {
 protected:
  void SetUp() override {
    command(0x60);
    write(kData, 0x65);
    command(0xaa);
  }
  void expect_refused_and_unchanged(const DeviceState& bad) {
    const DeviceState before = kbc.save_state();
    const auto r = kbc.restore_state(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_FALSE(r.error().message.empty());
    EXPECT_EQ(kbc.save_state().payload, before.payload);
  }
};

TEST_F(I8042RefusalTest, RefusesAnotherDevicesState) {
  DeviceState s = kbc.save_state();
  s.kind = "uart16550";
  expect_refused_and_unchanged(s);
}

TEST_F(I8042RefusalTest, RefusesUnknownVersions) {
  DeviceState s = kbc.save_state();
  for (std::uint16_t v : {std::uint16_t{0}, std::uint16_t{2}}) {
    s.version = v;
    expect_refused_and_unchanged(s);
  }
}

TEST_F(I8042RefusalTest, RefusesEveryTruncation) {
  const DeviceState good = kbc.save_state();
  for (std::size_t n = 0; n < good.payload.size(); ++n) {
    SCOPED_TRACE(n);
    DeviceState cut = good;
    cut.payload.resize(n);
    expect_refused_and_unchanged(cut);
  }
}

TEST_F(I8042RefusalTest, RefusesTrailingBytes) {
  DeviceState s = kbc.save_state();
  s.payload.push_back(0);
  expect_refused_and_unchanged(s);
}

TEST_F(I8042RefusalTest, RefusesAnAwaitingFlagThatIsNotABoolean) {
  StateWriter w;
  w.u8(0x04), w.u8(0x01), w.u8(0x00), w.u8(2);
  expect_refused_and_unchanged(DeviceState{"i8042", 1, w.take()});
  EXPECT_EQ(read(kData), 0x55);
  command(0x20);
  EXPECT_EQ(read(kData), 0x65);
}

}  // namespace
}  // namespace tilehv::vdevices
