// Tests for VirtioConsole's saved state: a restore in the middle of the handshake and of traffic both
// ways loses and duplicates nothing; malformed or mismatched records are refused and change nothing.
#include <gtest/gtest.h>

#include "console_guest.hpp"

namespace tilehv::vdevices {
namespace {

using testing::ConsoleGuest;
using testing::ControlMsg;
using testing::kEvOpen;

std::string pattern(std::size_t n, char first) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<char>(first + static_cast<char>(i % 26));
  return s;
}

TEST(VirtioConsoleState, RestoreDuringTheAnnouncementsSendsEachOnce) {
  ConsoleGuest g({{"console", true}, {"echo"}});
  ASSERT_TRUE(g.bring_up());
  g.add_control_buffers(3);
  g.send_control(console::kNoPort, 0, 1);
  std::vector<ControlMsg> got = g.receive_control();  // re-queues the 3 buffers
  got.resize(3);
  g.save_and_restore();
  for (int i = 0; i < 4; ++i) {
    for (const auto& m : g.receive_control()) got.push_back(m);
    g.add_control_buffers(1);
  }
  ASSERT_EQ(got.size(), 7U);
  EXPECT_EQ(got[2], (ControlMsg{0, testing::kEvConsole, 1, ""}));
  EXPECT_EQ(got[3], (ControlMsg{0, kEvOpen, 1, ""}));
  EXPECT_EQ(got[6], (ControlMsg{1, kEvOpen, 1, ""}));
  EXPECT_FALSE(g.needs_reset()) << g.error();
}

TEST(VirtioConsoleState, RestoreMidTrafficLosesAndDuplicatesNothing) {
  ConsoleGuest g({{"slow", false, 8}, {"bulk", false, 4096}});
  ASSERT_TRUE(g.bring_up());
  g.linux_handshake(1);  // one 64-byte receive buffer per port
  g.send_control(0, kEvOpen, 1);
  g.send_control(1, kEvOpen, 1);
  // Port 0: a 20-byte transmit chain of which the backend took 8; its receive chain waits for bytes.
  const std::string out0 = pattern(20, 'a');
  g.transmit(0, out0, 3);
  ASSERT_TRUE(g.device().port_status(0).transmit_parked);
  // Port 1: 100 host bytes, 64 delivered, 36 still in the backend.
  const std::string in1 = pattern(100, 'A');
  g.backend(1).send(in1);
  g.wake(1);
  std::string got1 = g.receive(1);  // re-queues its buffer, which takes the next 36 at once
  ASSERT_EQ(got1.size(), 64U);

  const DeviceState before = g.device().save_state();
  g.save_and_restore();
  EXPECT_EQ(g.device().save_state().payload, before.payload) << "a restored device saves the same record";
  EXPECT_TRUE(g.device().port_status(0).transmit_parked);
  EXPECT_TRUE(g.device().port_status(1).guest_open);

  std::string host0;
  for (int i = 0; i < 10 && host0.size() < out0.size(); ++i) {
    host0 += g.backend(0).receive_all();
    g.wake(0);
  }
  EXPECT_EQ(host0, out0);
  EXPECT_EQ(g.transmitted(0), 1U);
  g.backend(0).send("Z");
  g.wake(0);
  EXPECT_EQ(g.receive(0), "Z") << "the held receive chain survived the restore";
  for (int i = 0; i < 4; ++i) got1 += g.receive(1);
  EXPECT_EQ(got1, in1);
  g.transmit(1, "after");
  EXPECT_EQ(g.backend(1).receive_all(), "after");
  EXPECT_FALSE(g.needs_reset()) << g.error();
  EXPECT_TRUE(g.line().level) << "the restored transport reattached its interrupt";
}

TEST(VirtioConsoleState, InactiveDeviceRoundTrips) {
  ConsoleGuest g({{"a"}});
  const DeviceState saved = g.device().save_state();
  EXPECT_EQ(saved.kind, "virtio-console");
  EXPECT_EQ(saved.version, 1);
  ASSERT_TRUE(g.device().restore_state(saved));
  EXPECT_EQ(g.device().save_state().payload, saved.payload);
}

TEST(VirtioConsoleState, RefusesMalformedAndMismatchedRecords) {
  ConsoleGuest g({{"console", true}, {"echo"}});
  ASSERT_TRUE(g.bring_up());
  g.linux_handshake();
  g.send_control(1, kEvOpen, 1);
  const DeviceState saved = g.device().save_state();

  DeviceState wrong_kind = saved;
  wrong_kind.kind = "virtio-rng";
  EXPECT_FALSE(g.device().restore_state(wrong_kind));
  DeviceState future = saved;
  future.version = 2;
  EXPECT_FALSE(g.device().restore_state(future));
  DeviceState trailing = saved;
  trailing.payload.push_back(0);
  EXPECT_FALSE(g.device().restore_state(trailing));
  for (std::size_t cut = 0; cut < saved.payload.size(); cut += 7) {
    DeviceState truncated = saved;
    truncated.payload.resize(cut);
    EXPECT_FALSE(g.device().restore_state(truncated)) << "cut at " << cut;
  }

  // The same record onto a device whose ports differ.
  auto memory = *memory::GuestMemory::create(16 * memory::kMiB);
  BufferBackend b(16);
  auto other = VirtioConsole::create(memory, {{"console", true, &b}, {"other", false, &b}});
  ASSERT_TRUE(other);
  auto refused = (*other)->restore_state(saved);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("port 1 was 'echo'"), std::string::npos) << refused.error().message;
  auto fewer = VirtioConsole::create(memory, {{"console", true, &b}});
  EXPECT_FALSE((*fewer)->restore_state(saved));

  // Nothing changed on the refusals: the device still works.
  g.backend(1).send("still");
  g.wake(1);
  EXPECT_EQ(g.receive(1), "still");
  EXPECT_FALSE(g.needs_reset()) << g.error();
}

TEST(VirtioConsoleState, RefusesAHeldChainOutsideGuestMemory) {
  ConsoleGuest g({{"p", false, 4}});
  ASSERT_TRUE(g.bring_up());
  g.linux_handshake();
  g.transmit(0, "0123456789");
  DeviceState saved = g.device().save_state();
  // The held transmit chain's one buffer address is the last u64 before its length, flag and offset
  // (u32 + u8 + u64) and the empty outbox count (u32): point it past the end of RAM.
  const std::size_t at = saved.payload.size() - 4 - 8 - 1 - 4 - 8;
  const std::uint64_t outside = 64 * memory::kMiB;
  for (int i = 0; i < 8; ++i) saved.payload[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(outside >> (8 * i));
  auto refused = g.device().restore_state(saved);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("not inside guest RAM"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace tilehv::vdevices
