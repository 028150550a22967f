// Tests for Ioapic: redirection entries programmed through IOREGSEL/IOWIN, edge and level delivery as
// MSIs, masking, remote IRR and EOI, and save/restore.
#include "ioapic/ioapic.hpp"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace tilehv::vdevices {
namespace {

class RecordingMsi final : public MsiSender {
 public:
  void route_changed(std::uint32_t, const MsiMessage&) noexcept override { ++route_changes; }
  bool send_msi(std::uint32_t, const MsiMessage& m) noexcept override {
    sent.push_back(m);
    return accept;
  }
  std::vector<MsiMessage> sent;
  int route_changes = 0;
  bool accept = true;
};

class IoapicTest : public ::testing::Test {
 protected:
  void write(std::uint64_t offset, std::uint32_t v) { ioapic_.mmio_write(offset, {reinterpret_cast<std::uint8_t*>(&v), 4}); }
  std::uint32_t read(std::uint64_t offset) {
    std::uint32_t v = 0;
    ioapic_.mmio_read(offset, {reinterpret_cast<std::uint8_t*>(&v), 4});
    return v;
  }
  void program(std::uint32_t pin, std::uint64_t entry) {
    write(0x00, 0x10 + 2 * pin + 1);
    write(0x10, static_cast<std::uint32_t>(entry >> 32));
    write(0x00, 0x10 + 2 * pin);
    write(0x10, static_cast<std::uint32_t>(entry));
  }

  RecordingMsi msi_;
  Ioapic ioapic_{msi_};
};

constexpr std::uint64_t kLevel = 1ULL << 15, kMask = 1ULL << 16, kRemoteIrr = 1ULL << 14;
constexpr std::uint64_t dest(std::uint64_t apic) { return apic << 56; }

TEST_F(IoapicTest, ReportsVersionAndStartsMasked) {
  write(0x00, 0x01);
  EXPECT_EQ(read(0x10), 0x170020U) << "version 0x20, 24 entries";
  for (std::uint32_t pin = 0; pin < Ioapic::kPins; ++pin) EXPECT_NE(ioapic_.redirection_entry(pin) & kMask, 0U);
  ioapic_.set_pin(3, true);
  EXPECT_TRUE(msi_.sent.empty());
  EXPECT_EQ(ioapic_.metrics().masked.load(), 1U);
}

TEST_F(IoapicTest, EdgeDeliversOnRisingEdgesOnly) {
  program(5, 0x41 | dest(2));
  ioapic_.set_pin(5, true);
  ASSERT_EQ(msi_.sent.size(), 1U);
  EXPECT_EQ(msi_.sent[0].address, 0xfee02000U);
  EXPECT_EQ(msi_.sent[0].data, 0x41U);
  ioapic_.set_pin(5, true);
  EXPECT_EQ(msi_.sent.size(), 1U) << "no edge, no interrupt";
  ioapic_.set_pin(5, false);
  ioapic_.set_pin(5, true);
  EXPECT_EQ(msi_.sent.size(), 2U);
}

TEST_F(IoapicTest, LevelWaitsForEoiAndRedeliversWhileAsserted) {
  program(7, 0x50 | kLevel | dest(0));
  ioapic_.set_pin(7, true);
  ASSERT_EQ(msi_.sent.size(), 1U);
  EXPECT_EQ(msi_.sent[0].data, 0x50U | (1U << 15) | (1U << 14)) << "level trigger in the MSI data";
  EXPECT_NE(ioapic_.redirection_entry(7) & kRemoteIrr, 0U);
  ioapic_.set_pin(7, true);
  EXPECT_EQ(msi_.sent.size(), 1U) << "in service until EOI";
  ioapic_.end_of_interrupt(0x51);
  EXPECT_EQ(msi_.sent.size(), 1U) << "another vector's EOI";
  ioapic_.end_of_interrupt(0x50);
  EXPECT_EQ(msi_.sent.size(), 2U) << "still asserted at EOI: delivered again";
  ioapic_.set_pin(7, false);
  ioapic_.end_of_interrupt(0x50);
  EXPECT_EQ(msi_.sent.size(), 2U);
  EXPECT_EQ(ioapic_.redirection_entry(7) & kRemoteIrr, 0U);
}

TEST_F(IoapicTest, SwitchingToEdgeRetiresAnInterruptInService) {
  // A guest moving a pin to another CPU masks it and rewrites it edge-triggered while the first CPU
  // still holds the interrupt; that CPU's EOI may never reach the IOAPIC.
  program(16, 0xf2 | kLevel | dest(0));
  ioapic_.set_pin(16, true);
  ASSERT_NE(ioapic_.redirection_entry(16) & kRemoteIrr, 0U);
  program(16, kMask);
  EXPECT_EQ(ioapic_.redirection_entry(16) & kRemoteIrr, 0U);
  program(16, 0xf2 | kLevel | dest(1));
  ASSERT_EQ(msi_.sent.size(), 2U) << "still asserted: delivered to the new CPU";
  EXPECT_EQ(msi_.sent[1].address, 0xfee01000U);
}

TEST_F(IoapicTest, MaskingALevelEntryKeepsItInService) {
  program(4, 0x44 | kLevel);
  ioapic_.set_pin(4, true);
  program(4, 0x44 | kLevel | kMask);
  EXPECT_NE(ioapic_.redirection_entry(4) & kRemoteIrr, 0U) << "only its EOI retires a level interrupt";
  program(4, 0x44 | kLevel);
  EXPECT_EQ(msi_.sent.size(), 1U);
  ioapic_.end_of_interrupt(0x44);
  EXPECT_EQ(msi_.sent.size(), 2U);
}

TEST_F(IoapicTest, EoiRegisterWorksLikeTheExit) {
  program(2, 0x60 | kLevel);
  ioapic_.set_pin(2, true);
  write(0x40, 0x60);
  EXPECT_EQ(msi_.sent.size(), 2U);
}

TEST_F(IoapicTest, UnmaskingDeliversAHeldInterrupt) {
  program(9, 0x70 | kMask);
  ioapic_.set_pin(9, true);
  EXPECT_TRUE(msi_.sent.empty());
  program(9, 0x70);
  EXPECT_EQ(msi_.sent.size(), 1U);
}

TEST_F(IoapicTest, ReadOnlyBitsCannotBeWritten) {
  program(1, 0x30 | kRemoteIrr | (1ULL << 12));
  EXPECT_EQ(ioapic_.redirection_entry(1) & (kRemoteIrr | (1ULL << 12)), 0U);
}

TEST_F(IoapicTest, IgnoresBadAccessesAndPins) {
  std::uint8_t byte = 0xff;
  ioapic_.mmio_read(0x10, {&byte, 1});
  EXPECT_EQ(byte, 0);
  write(0x00, 0x10 + 2 * Ioapic::kPins);  // beyond the table
  EXPECT_EQ(read(0x10), 0xffffffffU);
  ioapic_.set_pin(Ioapic::kPins, true);
  ioapic_.set_pin(1000, true);
  EXPECT_TRUE(msi_.sent.empty());
}

TEST_F(IoapicTest, RefusedMsiIsCountedAndRetriedOnTheNextEdge) {
  program(4, 0x44);
  msi_.accept = false;
  ioapic_.set_pin(4, true);
  EXPECT_EQ(ioapic_.metrics().send_failures.load(), 1U);
  msi_.accept = true;
  ioapic_.set_pin(4, false);
  ioapic_.set_pin(4, true);
  EXPECT_EQ(ioapic_.metrics().delivered.load(), 1U);
}

TEST_F(IoapicTest, SaveAndRestore) {
  program(7, 0x50 | kLevel);
  ioapic_.set_pin(7, true);
  const DeviceState saved = ioapic_.save_state();
  RecordingMsi other;
  Ioapic restored(other);
  ASSERT_TRUE(restored.restore_state(saved));
  EXPECT_EQ(restored.redirection_entry(7), ioapic_.redirection_entry(7));
  restored.end_of_interrupt(0x50);
  EXPECT_EQ(other.sent.size(), 1U) << "the restored pin is still asserted and in service";
  DeviceState bad = saved;
  bad.payload.resize(10);
  EXPECT_FALSE(restored.restore_state(bad));
}

}  // namespace
}  // namespace tilehv::vdevices
