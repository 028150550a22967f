// Tests for VirtioConsole: configuration, the multiport handshake as Linux's driver does it, data both
// ways on several ports, back-pressure, a console without MULTIPORT, interrupts, reset and re-init.
#include "console/virtio_console.hpp"

#include <gtest/gtest.h>

#include "console_guest.hpp"

namespace tilehv::vdevices {
namespace {

using testing::ConsoleGuest;
using testing::ControlMsg;
using testing::kEvAdd;
using testing::kEvConsole;
using testing::kEvName;
using testing::kEvOpen;
using testing::kEvReady;

const std::vector<testing::PortSpec> kThreePorts = {{"console", true}, {"echo"}, {"log"}};

TEST(VirtioConsoleCreate, RefusesBadPortLists) {
  auto memory = *memory::GuestMemory::create(4 * memory::kMiB);
  BufferBackend b(16);
  const auto refused = [&](std::vector<ConsolePortConfig> ports, const char* why) {
    auto d = VirtioConsole::create(memory, std::move(ports));
    ASSERT_FALSE(d);
    EXPECT_NE(d.error().find(why), std::string::npos) << d.error();
  };
  refused({}, "1 to 31 ports");
  refused(std::vector<ConsolePortConfig>(32, {"", false, &b}), "1 to 31 ports");
  refused({{"a", false, nullptr}}, "no backend");
  refused({{"a", false, &b}, {"b", true, &b}}, "only port 0");
  refused({{"bad name", false, &b}}, "[A-Za-z0-9._-]");
  refused({{std::string(128, 'x'), false, &b}}, "up to 127");
  refused({{"same", false, &b}, {"same", false, &b}}, "used twice");
  EXPECT_TRUE(VirtioConsole::create(memory, {{"", true, &b}, {"", false, &b}}));
}

TEST(VirtioConsoleCreate, QueueNumberingFollowsTheSpec) {
  EXPECT_EQ(VirtioConsole::receive_queue(0), 0);
  EXPECT_EQ(VirtioConsole::transmit_queue(0), 1);
  EXPECT_EQ(VirtioConsole::receive_queue(1), 4);
  EXPECT_EQ(VirtioConsole::transmit_queue(1), 5);
  EXPECT_EQ(VirtioConsole::receive_queue(30), 62);
  EXPECT_EQ(VirtioConsole::transmit_queue(30), 63);
}

TEST(VirtioConsoleConfig, IdentityFeaturesQueuesAndConfigSpace) {
  ConsoleGuest g(kThreePorts);
  auto& d = g.driver();
  EXPECT_EQ(d.read(0x008), 3U) << "device id 3: console";
  d.write(0x014, 0);
  EXPECT_EQ(d.read(0x010), (1U << 1) | (1U << 28) | (1U << 29)) << "MULTIPORT, INDIRECT_DESC, EVENT_IDX; no SIZE, no EMERG_WRITE";
  d.write(0x014, 1);
  EXPECT_EQ(d.read(0x010), 1U);
  EXPECT_EQ(g.device().queue_max_sizes().size(), 8U) << "2 + 2 control + 2 per further port";
  EXPECT_EQ(d.read(0x100), 0U) << "cols and rows";
  EXPECT_EQ(d.read(0x104), 3U) << "max_nr_ports";
  EXPECT_EQ(d.read(0x108), 0U) << "emerg_wr";
  d.write(0x108, 'x');
  EXPECT_EQ(d.read(0x108), 0U) << "emerg_wr is not writable without EMERG_WRITE";
  std::uint8_t byte = 0;
  g.transport().mmio_read(0x104, {&byte, 1});
  EXPECT_EQ(byte, 3) << "narrow reads of a field";
}

TEST(VirtioConsoleHandshake, AnnouncesEveryPortAsLinuxExpects) {
  ConsoleGuest g(kThreePorts);
  ASSERT_TRUE(g.bring_up()) << g.error();
  const std::vector<ControlMsg> expected = {
      {0, kEvAdd, 1, ""},  {0, kEvName, 1, "console"}, {0, kEvConsole, 1, ""}, {0, kEvOpen, 1, ""},
      {1, kEvAdd, 1, ""},  {1, kEvName, 1, "echo"},    {1, kEvOpen, 1, ""},
      {2, kEvAdd, 1, ""},  {2, kEvName, 1, "log"},     {2, kEvOpen, 1, ""},
  };
  EXPECT_EQ(g.linux_handshake(), expected);
  EXPECT_FALSE(g.needs_reset()) << g.error();
  for (std::uint32_t p = 0; p < 3; ++p) {
    EXPECT_TRUE(g.device().port_status(p).announced);
    EXPECT_TRUE(g.device().port_status(p).guest_ready) << "PORT_READY for port " << p;
  }
  EXPECT_TRUE(g.device().port_status(0).guest_open) << "Linux opens the console port itself";
  EXPECT_FALSE(g.device().port_status(1).guest_open) << "a serial port opens when a program opens it";
  EXPECT_EQ(g.device().metrics().control_to_driver.load(), 10U);
  EXPECT_EQ(g.device().metrics().control_from_driver.load(), 5U) << "DEVICE_READY, 3 PORT_READY, 1 PORT_OPEN";
}

TEST(VirtioConsoleHandshake, AnnouncementsWaitForControlBuffers) {
  ConsoleGuest g({{"a"}, {"b"}});
  ASSERT_TRUE(g.bring_up());
  g.send_control(console::kNoPort, 0, 1);  // DEVICE_READY before any control receive buffer
  EXPECT_TRUE(g.receive_control().empty());
  std::vector<ControlMsg> got;
  for (int i = 0; i < 10; ++i) {
    g.add_control_buffers(1);
    for (const auto& m : g.receive_control()) got.push_back(m);
  }
  ASSERT_EQ(got.size(), 6U) << "ADD, NAME, OPEN for each of two ports, one per buffer";
  EXPECT_EQ(got[3], (ControlMsg{1, kEvAdd, 1, ""}));
  EXPECT_FALSE(g.needs_reset()) << g.error();
}

TEST(VirtioConsoleHandshake, UnnamedPortGetsNoNameAndNoConsoleMessage) {
  ConsoleGuest g({{""}, {"x"}});
  ASSERT_TRUE(g.bring_up());
  const auto msgs = g.linux_handshake();
  ASSERT_EQ(msgs.size(), 5U);
  EXPECT_EQ(msgs[0], (ControlMsg{0, kEvAdd, 1, ""}));
  EXPECT_EQ(msgs[1], (ControlMsg{0, kEvOpen, 1, ""}));
}

TEST(VirtioConsoleData, BothWaysOnSeveralPorts) {
  ConsoleGuest g(kThreePorts);
  ASSERT_TRUE(g.bring_up());
  g.linux_handshake();
  g.send_control(1, kEvOpen, 1);
  g.send_control(2, kEvOpen, 1);
  g.backend(0).send("to console");
  g.backend(1).send("to echo");
  g.backend(2).send("to log");
  for (std::uint32_t p = 0; p < 3; ++p) g.wake(p);
  EXPECT_EQ(g.receive(0), "to console");
  EXPECT_EQ(g.receive(1), "to echo");
  EXPECT_EQ(g.receive(2), "to log");
  g.transmit(0, "from console");
  g.transmit(1, "from echo", 3);
  g.transmit(2, "from log");
  EXPECT_EQ(g.backend(0).receive_all(), "from console");
  EXPECT_EQ(g.backend(1).receive_all(), "from echo");
  EXPECT_EQ(g.backend(2).receive_all(), "from log");
  for (std::uint32_t p = 0; p < 3; ++p) EXPECT_EQ(g.transmitted(p), 1U);
  EXPECT_FALSE(g.needs_reset()) << g.error();
  EXPECT_EQ(g.device().metrics().bytes_to_guest.load(), 23U);
  EXPECT_EQ(g.device().metrics().bytes_from_guest.load(), 29U);
}

TEST(VirtioConsoleData, HostBytesWaitUntilTheGuestOpensThePort) {
  ConsoleGuest g(kThreePorts);
  ASSERT_TRUE(g.bring_up());
  g.linux_handshake();
  g.backend(1).send("early");
  g.wake(1);
  EXPECT_EQ(g.receive(1), "") << "Linux would discard bytes on a port it has not opened";
  EXPECT_EQ(g.backend(1).pending_to_guest(), 5U) << "they stay in the backend";
  g.send_control(1, kEvOpen, 1);
  EXPECT_EQ(g.receive(1), "early") << "opening the port delivers them";
  g.send_control(1, kEvOpen, 0);
  g.backend(1).send("closed");
  g.wake(1);
  EXPECT_EQ(g.receive(1), "");
  EXPECT_FALSE(g.device().port_status(1).guest_open);
}

TEST(VirtioConsoleData, LongHostStreamSpansBuffersInOrder) {
  ConsoleGuest g({{"p", false, 8192}});
  ASSERT_TRUE(g.bring_up());
  g.linux_handshake(4);  // four 64-byte receive buffers
  g.send_control(0, kEvOpen, 1);
  std::string stream;
  for (int i = 0; i < 500; ++i) stream += static_cast<char>('a' + i % 26);
  ASSERT_EQ(g.backend(0).send(stream), stream.size());
  g.wake(0);
  std::string got;
  for (int i = 0; i < 20 && got.size() < stream.size(); ++i) got += g.receive(0);  // re-queues buffers
  EXPECT_EQ(got, stream);
}

TEST(VirtioConsoleData, EmptyBackendKeepsTheReceiveChainUntilWoken) {
  ConsoleGuest g({{"p"}});
  ASSERT_TRUE(g.bring_up());
  g.linux_handshake(1);
  g.send_control(0, kEvOpen, 1);
  EXPECT_EQ(g.ring(0).used_index(), 0) << "no empty completions";
  g.backend(0).send("x");
  g.wake(0);
  EXPECT_EQ(g.receive(0), "x");
}

TEST(VirtioConsoleData, BackPressureParksTheTransmitChainAndLosesNothing) {
  ConsoleGuest g({{"slow", false, 8}});
  ASSERT_TRUE(g.bring_up());
  g.linux_handshake();
  g.transmit(0, "0123456789abcdefghij", 3);  // 20 bytes in 3 buffers, the backend holds 8
  g.transmit(0, "KLMNOP");
  EXPECT_EQ(g.transmitted(0), 0U) << "a chain the backend has not fully taken stays with the device";
  EXPECT_TRUE(g.device().port_status(0).transmit_parked);
  std::string host;
  for (int i = 0; i < 10 && host.size() < 26; ++i) {
    std::uint8_t chunk[5];
    const std::size_t n = g.backend(0).receive(chunk);  // no waker here: the VMM's wake-up by hand
    host.append(chunk, chunk + n);
    g.wake(0);
  }
  EXPECT_EQ(host, "0123456789abcdefghijKLMNOP");
  EXPECT_EQ(g.transmitted(0), 2U);
  EXPECT_FALSE(g.device().port_status(0).transmit_parked);
  EXPECT_GT(g.device().metrics().transmit_stalls.load(), 0U);
  EXPECT_FALSE(g.needs_reset()) << g.error();
}

TEST(VirtioConsoleData, BackendWakerDrivesTheDevice) {
  // Every backend wakes its port through the transport, as the VMM's worker does: no wake by hand.
  ConsoleGuest g({{"w", false, 4, true}});
  ASSERT_TRUE(g.bring_up());
  g.linux_handshake();
  g.send_control(0, kEvOpen, 1);
  g.backend(0).send("ping");
  EXPECT_EQ(g.receive(0), "ping");
  g.transmit(0, "0123456789");
  EXPECT_EQ(g.backend(0).receive_all(), "0123456789") << "each receive() made room and woke the port";
  EXPECT_EQ(g.transmitted(0), 1U);
}

TEST(VirtioConsoleData, WithoutMultiportPortZeroIsAPlainConsole) {
  ConsoleGuest g({{"console", true}, {"other"}});
  ASSERT_TRUE(g.bring_up(virtio::kFeatureVersion1));
  g.add_receive_buffers(0, 2);
  g.backend(0).send("hi");
  g.wake(0);
  EXPECT_EQ(g.receive(0), "hi");
  g.transmit(0, "out");
  EXPECT_EQ(g.backend(0).receive_all(), "out");
  g.add_control_buffers(2);
  g.send_control(console::kNoPort, 0, 1);
  EXPECT_TRUE(g.receive_control().empty()) << "no control queues without MULTIPORT";
  g.transmit(1, "nowhere");
  EXPECT_EQ(g.backend(1).pending_from_guest(), 0U);
  EXPECT_FALSE(g.needs_reset()) << g.error();
}

TEST(VirtioConsoleData, InterruptsAndEventIndex) {
  ConsoleGuest g({{"p"}});
  ASSERT_TRUE(g.bring_up());
  g.linux_handshake();
  EXPECT_TRUE(g.line().level);
  g.driver().ack(g.driver().interrupt_status());
  EXPECT_FALSE(g.line().level);
  g.transmit(0, "a");  // the queue's first used buffer always interrupts
  EXPECT_TRUE(g.line().level);
  g.driver().ack(g.driver().interrupt_status());
  // used_event 3: the driver wants an interrupt once the used index passes 3 (spec 2.7.10).
  g.ring(1).set_used_event(3);
  g.transmit(0, "b");
  EXPECT_FALSE(g.line().level);
  g.transmit(0, "c");
  EXPECT_FALSE(g.line().level);
  g.transmit(0, "d");
  EXPECT_TRUE(g.line().level);
  EXPECT_EQ(g.ring(1).avail_event(), 4) << "the device asks for a kick at the next transmit buffer";
}

TEST(VirtioConsoleLifecycle, ResetAndReinitAnnouncesAgainAndKeepsBackendBytes) {
  ConsoleGuest g(kThreePorts);
  ASSERT_TRUE(g.bring_up());
  const auto first = g.linux_handshake();
  g.send_control(1, kEvOpen, 1);
  g.transmit(1, "before");
  EXPECT_EQ(g.backend(1).receive_all(), "before");
  g.backend(1).send("pending");
  g.send_control(1, kEvOpen, 0);  // closed: the bytes stay in the backend
  g.wake(1);
  g.driver().write(0x070, 0);  // reset
  EXPECT_FALSE(g.device().port_status(1).announced);
  EXPECT_FALSE(g.device().port_status(1).guest_ready);
  ASSERT_TRUE(g.bring_up()) << g.error();
  EXPECT_EQ(g.linux_handshake(), first);
  g.send_control(1, kEvOpen, 1);
  EXPECT_EQ(g.receive(1), "pending");
  g.transmit(1, "after");
  EXPECT_EQ(g.backend(1).receive_all(), "after");
  EXPECT_FALSE(g.needs_reset()) << g.error();
}

}  // namespace
}  // namespace tilehv::vdevices
