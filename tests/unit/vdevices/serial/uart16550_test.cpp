// Tests for Uart16550: the 16550A serial port model (registers, FIFO, interrupts, saved state).
#include "serial/uart16550.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "serial/console_sink.hpp"

namespace tilehv::vdevices {
namespace {

constexpr std::uint16_t kData = 0;
constexpr std::uint16_t kIer = 1;
constexpr std::uint16_t kIirFcr = 2;
constexpr std::uint16_t kLcr = 3;
constexpr std::uint16_t kMcr = 4;
constexpr std::uint16_t kLsr = 5;
constexpr std::uint16_t kMsr = 6;
constexpr std::uint16_t kScr = 7;

constexpr int kLsrDataReady = 0x01;
constexpr int kLsrThrEmptyIdle = 0x60;  // THRE | TEMT
constexpr int kIirNone = 0x01;
constexpr int kIirThrEmpty = 0x02;
constexpr int kIirRxAvailable = 0x04;
constexpr int kIirFifoEnabled = 0xc0;

// Test collaborator: an interrupt controller input that remembers every level it was driven to.
class RecordingLine final : public InterruptLine {
 public:
  void set_level(bool level) noexcept override { levels.push_back(level); }
  [[nodiscard]] bool asserted() const { return !levels.empty() && levels.back(); }
  std::vector<bool> levels;
};

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

class Uart16550Test : public ::testing::Test {
 protected:
  void write(std::uint16_t offset, std::uint8_t value) {
    const std::array<std::uint8_t, 1> b{value};
    uart.pio_write(offset, b);
  }
  int read(std::uint16_t offset) {
    std::array<std::uint8_t, 1> b{0x5a};
    uart.pio_read(offset, b);
    return b[0];
  }
  // Drains the receive FIFO through the data register, as a polling guest does.
  std::string drain(Uart16550& u) {
    std::string out;
    for (int guard = 0; guard < 1000; ++guard) {
      std::array<std::uint8_t, 1> lsr{};
      u.pio_read(kLsr, lsr);
      if ((lsr[0] & kLsrDataReady) == 0) break;
      std::array<std::uint8_t, 1> b{};
      u.pio_read(kData, b);
      out.push_back(static_cast<char>(b[0]));
    }
    return out;
  }

  RingSink sink{4096};
  RecordingLine line;
  Uart16550 uart{sink, line};
};

TEST_F(Uart16550Test, ThrWritesReachTheSink) {
  for (char c : std::string_view("hello\n")) write(kData, static_cast<std::uint8_t>(c));
  EXPECT_EQ(sink.contents(), "hello\n");
  EXPECT_EQ(uart.metrics().bytes_out.load(), 6U);
}

TEST_F(Uart16550Test, LsrAlwaysReportsTransmitterEmptyAndDataReadyOnlyWithRxData) {
  EXPECT_EQ(read(kLsr), kLsrThrEmptyIdle);
  write(kData, 'x');  // the transmitter is never busy
  EXPECT_EQ(read(kLsr), kLsrThrEmptyIdle);
  ASSERT_EQ(uart.enqueue_input(bytes_of("ab")), 2U);
  EXPECT_EQ(read(kLsr), kLsrThrEmptyIdle | kLsrDataReady);
  EXPECT_EQ(read(kData), 'a');
  EXPECT_EQ(read(kLsr), kLsrThrEmptyIdle | kLsrDataReady);
  EXPECT_EQ(read(kData), 'b');
  EXPECT_EQ(read(kLsr), kLsrThrEmptyIdle);
}

TEST_F(Uart16550Test, ReadingAnEmptyReceiverGivesZero) {
  EXPECT_EQ(read(kData), 0);
  EXPECT_EQ(read(kLsr) & kLsrDataReady, 0);
}

TEST_F(Uart16550Test, InputIsReadInOrderAndCounted) {
  ASSERT_EQ(uart.enqueue_input(bytes_of("abc")), 3U);
  ASSERT_EQ(uart.enqueue_input(bytes_of("de")), 2U);
  EXPECT_EQ(drain(uart), "abcde");
  EXPECT_EQ(uart.metrics().bytes_in.load(), 5U);
  EXPECT_EQ(uart.metrics().input_dropped.load(), 0U);
}

TEST_F(Uart16550Test, DlabSelectsTheDivisorLatch) {
  write(kLcr, 0x83);  // DLAB, 8N1
  EXPECT_EQ(read(kData), 0x0c) << "firmware default divisor: 9600 baud";
  EXPECT_EQ(read(kIer), 0x00);
  write(kData, 0x01);  // 115200 baud
  write(kIer, 0x02);
  EXPECT_EQ(read(kData), 0x01);
  EXPECT_EQ(read(kIer), 0x02);
  EXPECT_EQ(sink.total_bytes(), 0U) << "a divisor write is not output";

  write(kLcr, 0x03);
  EXPECT_EQ(read(kIer), 0x00) << "DLM write must not have reached IER";
  ASSERT_EQ(uart.enqueue_input(bytes_of("z")), 1U);
  EXPECT_EQ(read(kData), 'z');
  write(kData, 'q');
  EXPECT_EQ(sink.contents(), "q");

  write(kLcr, 0x83);
  EXPECT_EQ(read(kData), 0x01) << "divisor kept while DLAB was clear";
  EXPECT_EQ(read(kIer), 0x02);
}

TEST_F(Uart16550Test, DlabReadDoesNotConsumeInput) {
  ASSERT_EQ(uart.enqueue_input(bytes_of("k")), 1U);
  write(kLcr, 0x83);
  EXPECT_EQ(read(kData), 0x0c);
  write(kLcr, 0x03);
  EXPECT_EQ(read(kData), 'k');
}

TEST_F(Uart16550Test, ScratchRegisterHoldsAnyValue) {
  EXPECT_EQ(read(kScr), 0);
  for (int v : {0x00, 0x5a, 0xa5, 0xff}) {
    write(kScr, static_cast<std::uint8_t>(v));
    EXPECT_EQ(read(kScr), v);
  }
}

TEST_F(Uart16550Test, LineAndModemControlReadBack) {
  EXPECT_EQ(read(kLcr), 0x03) << "8N1 as firmware leaves it";
  EXPECT_EQ(read(kMcr), 0x08) << "OUT2 open as firmware leaves it";
  write(kLcr, 0x1b);
  EXPECT_EQ(read(kLcr), 0x1b);
  write(kMcr, 0xff);
  EXPECT_EQ(read(kMcr), 0x1f) << "MCR has five bits";
}

TEST_F(Uart16550Test, IerKeepsOnlyItsFourBits) {
  write(kIer, 0xf0);
  EXPECT_EQ(read(kIer), 0x00);
  write(kIer, 0xff);
  EXPECT_EQ(read(kIer), 0x0f);
}

TEST_F(Uart16550Test, LsrAndMsrAreReadOnly) {
  write(kLsr, 0x00);
  write(kMsr, 0x00);
  EXPECT_EQ(read(kLsr), kLsrThrEmptyIdle);
  EXPECT_EQ(read(kMsr), 0xb0);
}

TEST_F(Uart16550Test, MsrReportsAnAttachedTerminalOutsideLoopback) {
  EXPECT_EQ(read(kMsr), 0xb0);  // DCD | DSR | CTS
  write(kMcr, 0x0f);
  EXPECT_EQ(read(kMsr), 0xb0) << "outside loopback MCR does not drive MSR";
}

TEST_F(Uart16550Test, LoopbackSendsThrToTheReceiver) {
  write(kMcr, 0x18);  // LOOP | OUT2
  write(kData, 'L');
  write(kData, 'B');
  EXPECT_EQ(sink.total_bytes(), 0U) << "loopback output must not reach the console";
  EXPECT_EQ(uart.metrics().bytes_out.load(), 0U);
  EXPECT_EQ(read(kLsr), kLsrThrEmptyIdle | kLsrDataReady);
  EXPECT_EQ(read(kData), 'L');
  EXPECT_EQ(read(kData), 'B');
  EXPECT_EQ(read(kLsr), kLsrThrEmptyIdle);

  write(kMcr, 0x08);
  write(kData, 'O');
  EXPECT_EQ(sink.contents(), "O");
  EXPECT_EQ(read(kLsr) & kLsrDataReady, 0);
}

TEST_F(Uart16550Test, LoopbackWiresModemControlToModemStatus) {
  struct Case {
    int mcr;
    int msr;
  };
  // RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
  for (const Case c : {Case{0x10, 0x00}, Case{0x11, 0x20}, Case{0x12, 0x10}, Case{0x14, 0x40}, Case{0x18, 0x80},
                       Case{0x1f, 0xf0}, Case{0x13, 0x30}, Case{0x1c, 0xc0}}) {
    write(kMcr, static_cast<std::uint8_t>(c.mcr));
    EXPECT_EQ(read(kMsr), c.msr) << "MCR " << c.mcr;
  }
}

TEST_F(Uart16550Test, LoopbackReceiverIsBounded) {
  write(kMcr, 0x10);
  for (int i = 0; i < 200; ++i) write(kData, static_cast<std::uint8_t>(i));
  const std::string got = drain(uart);
  ASSERT_EQ(got.size(), Uart16550::kRxFifoCapacity);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(static_cast<std::size_t>(static_cast<std::uint8_t>(got[i])), i);
}

TEST_F(Uart16550Test, IirReportsNoInterruptAndFifoState) {
  EXPECT_EQ(read(kIirFcr), kIirNone);
  write(kIirFcr, 0x01);  // FIFO enable
  EXPECT_EQ(read(kIirFcr), kIirNone | kIirFifoEnabled);
  write(kIirFcr, 0x00);
  EXPECT_EQ(read(kIirFcr), kIirNone);
}

TEST_F(Uart16550Test, ThrEmptyInterruptIsRaisedAndAcknowledgedByReadingIir) {
  EXPECT_FALSE(line.asserted());
  write(kIer, 0x02);  // enabling it while THR is empty raises it at once
  EXPECT_TRUE(line.asserted());
  EXPECT_EQ(read(kIirFcr), kIirThrEmpty);
  EXPECT_FALSE(line.asserted()) << "reading IIR acknowledges THR empty";
  EXPECT_EQ(read(kIirFcr), kIirNone);

  write(kData, 'a');
  EXPECT_TRUE(line.asserted()) << "each transmitted byte empties THR again";
  EXPECT_EQ(read(kIirFcr), kIirThrEmpty);
  EXPECT_FALSE(line.asserted());

  write(kData, 'b');
  EXPECT_TRUE(line.asserted());
  write(kIer, 0x00);
  EXPECT_FALSE(line.asserted()) << "disabling the interrupt lowers the line";
  EXPECT_EQ(read(kIirFcr), kIirNone);
}

TEST_F(Uart16550Test, ReEnablingAnAlreadyEnabledThrInterruptDoesNotRaiseItAgain) {
  write(kIer, 0x02);
  EXPECT_EQ(read(kIirFcr), kIirThrEmpty);
  write(kIer, 0x02);
  EXPECT_FALSE(line.asserted());
  EXPECT_EQ(read(kIirFcr), kIirNone);
}

TEST_F(Uart16550Test, Out2GatesTheInterruptLine) {
  write(kMcr, 0x00);
  write(kIer, 0x02);
  EXPECT_FALSE(line.asserted()) << "OUT2 closed: nothing reaches the interrupt controller";
  write(kMcr, 0x08);
  EXPECT_TRUE(line.asserted());
}

TEST_F(Uart16550Test, ReceiveInterruptFollowsTheFifo) {
  write(kIer, 0x01);
  EXPECT_FALSE(line.asserted());
  ASSERT_EQ(uart.enqueue_input(bytes_of("xy")), 2U);
  EXPECT_TRUE(line.asserted());
  EXPECT_EQ(read(kIirFcr), kIirRxAvailable);
  EXPECT_TRUE(line.asserted()) << "reading IIR does not acknowledge received data";
  EXPECT_EQ(read(kData), 'x');
  EXPECT_TRUE(line.asserted());
  EXPECT_EQ(read(kData), 'y');
  EXPECT_FALSE(line.asserted());
  EXPECT_EQ(read(kIirFcr), kIirNone);
}

TEST_F(Uart16550Test, ReceiveInterruptTakesPriorityOverThrEmpty) {
  write(kIer, 0x03);
  ASSERT_EQ(uart.enqueue_input(bytes_of("r")), 1U);
  EXPECT_EQ(read(kIirFcr), kIirRxAvailable);
  EXPECT_EQ(read(kIirFcr), kIirRxAvailable) << "THR empty still pending behind it";
  EXPECT_EQ(read(kData), 'r');
  EXPECT_TRUE(line.asserted());
  EXPECT_EQ(read(kIirFcr), kIirThrEmpty);
  EXPECT_EQ(read(kIirFcr), kIirNone);
  EXPECT_FALSE(line.asserted());
}

TEST_F(Uart16550Test, FcrClearsTheReceiver) {
  write(kIer, 0x01);
  ASSERT_EQ(uart.enqueue_input(bytes_of("junk")), 4U);
  EXPECT_TRUE(line.asserted());
  write(kIirFcr, 0x03);  // enable + clear RX
  EXPECT_EQ(read(kLsr) & kLsrDataReady, 0);
  EXPECT_FALSE(line.asserted());
  EXPECT_EQ(read(kIirFcr), kIirNone | kIirFifoEnabled);
}

TEST_F(Uart16550Test, ReceiveFifoIsBoundedAndDropsAreCounted) {
  std::vector<std::uint8_t> input(100);
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<std::uint8_t>('A' + i % 26);
  EXPECT_EQ(uart.enqueue_input(input), Uart16550::kRxFifoCapacity);
  EXPECT_EQ(uart.metrics().bytes_in.load(), Uart16550::kRxFifoCapacity);
  EXPECT_EQ(uart.metrics().input_dropped.load(), 100 - Uart16550::kRxFifoCapacity);

  EXPECT_EQ(uart.enqueue_input(bytes_of("more")), 0U) << "a full FIFO takes nothing";
  EXPECT_EQ(uart.metrics().input_dropped.load(), 104 - Uart16550::kRxFifoCapacity);

  const std::string got = drain(uart);
  ASSERT_EQ(got.size(), Uart16550::kRxFifoCapacity);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(static_cast<std::uint8_t>(got[i]), input[i]) << i;

  EXPECT_EQ(uart.enqueue_input(bytes_of("ok")), 2U) << "room again once the guest read it";
  EXPECT_EQ(drain(uart), "ok");
}

TEST_F(Uart16550Test, EnqueueFillsOnlyTheRemainingRoom) {
  std::vector<std::uint8_t> first(Uart16550::kRxFifoCapacity - 3, 'a');
  ASSERT_EQ(uart.enqueue_input(first), first.size());
  EXPECT_EQ(uart.enqueue_input(bytes_of("bcdef")), 3U);
  EXPECT_EQ(uart.metrics().input_dropped.load(), 2U);
  const std::string got = drain(uart);
  EXPECT_EQ(got.substr(got.size() - 3), "bcd");
}

TEST_F(Uart16550Test, StringOutputReachesTheSinkInOneBurst) {
  const std::string text = "booting tile 0\n";
  uart.pio_write_string(kData, 1, bytes_of(text));
  EXPECT_EQ(sink.contents(), text);
  EXPECT_EQ(uart.metrics().bytes_out.load(), text.size());
}

TEST_F(Uart16550Test, StringOutputRaisesThrEmpty) {
  write(kIer, 0x02);
  ASSERT_EQ(read(kIirFcr), kIirThrEmpty);
  ASSERT_FALSE(line.asserted());
  uart.pio_write_string(kData, 1, bytes_of("xyz"));
  EXPECT_TRUE(line.asserted());
  EXPECT_EQ(read(kIirFcr), kIirThrEmpty);
}

TEST_F(Uart16550Test, StringOutputUnderDlabWritesTheDivisor) {
  write(kLcr, 0x83);
  uart.pio_write_string(kData, 1, bytes_of("\x05\x03"));
  EXPECT_EQ(sink.total_bytes(), 0U);
  EXPECT_EQ(read(kData), 0x03);
}

TEST_F(Uart16550Test, StringOutputInLoopbackGoesToTheReceiver) {
  write(kMcr, 0x10);
  uart.pio_write_string(kData, 1, bytes_of("loop"));
  EXPECT_EQ(sink.total_bytes(), 0U);
  EXPECT_EQ(drain(uart), "loop");
}

TEST_F(Uart16550Test, WideStringElementsSplitIntoConsecutiveRegisters) {
  // Each 2-byte element writes THR then IER; a trailing partial element is ignored.
  const std::array<std::uint8_t, 5> data{'a', 0x00, 'b', 0x00, 'c'};
  uart.pio_write_string(kData, 2, data);
  EXPECT_EQ(sink.contents(), "ab");
  EXPECT_EQ(read(kIer), 0x00);
}

TEST_F(Uart16550Test, StringOutputToScratchKeepsTheLastByte) {
  uart.pio_write_string(kScr, 1, bytes_of("123"));
  EXPECT_EQ(sink.total_bytes(), 0U);
  EXPECT_EQ(read(kScr), '3');
}

TEST_F(Uart16550Test, AccessesBeyondTheRegistersReadOpenBusAndWriteNothing) {
  write(kScr, 0x42);
  for (std::uint16_t offset : {std::uint16_t{8}, std::uint16_t{9}, std::uint16_t{0x100}, std::uint16_t{0xfff0}}) {
    EXPECT_EQ(read(offset), 0xff) << offset;
    write(offset, 'X');
  }
  EXPECT_EQ(sink.total_bytes(), 0U);
  EXPECT_EQ(read(kScr), 0x42);
  EXPECT_EQ(read(kIer), 0x00);
  EXPECT_EQ(read(kLcr), 0x03);
}

TEST_F(Uart16550Test, WideReadCoversConsecutiveRegisters) {
  write(kScr, 0x77);
  std::array<std::uint8_t, 4> four{};
  uart.pio_read(kMsr, four);
  EXPECT_EQ(four, (std::array<std::uint8_t, 4>{0xb0, 0x77, 0xff, 0xff}));

  std::array<std::uint8_t, 2> two{};
  uart.pio_read(kLsr, two);
  EXPECT_EQ(two, (std::array<std::uint8_t, 2>{0x60, 0xb0}));

  write(kLcr, 0x83);
  write(kData, 0x34);
  write(kIer, 0x12);
  uart.pio_read(kData, two);
  EXPECT_EQ(two, (std::array<std::uint8_t, 2>{0x34, 0x12})) << "16-bit divisor read, little-endian";
}

TEST_F(Uart16550Test, WideWriteCoversConsecutiveRegisters) {
  const std::array<std::uint8_t, 2> thr_and_ier{'W', 0x02};
  uart.pio_write(kData, thr_and_ier);
  EXPECT_EQ(sink.contents(), "W");
  EXPECT_EQ(read(kIer), 0x02);
  EXPECT_TRUE(line.asserted());

  const std::array<std::uint8_t, 4> scr_and_beyond{0x99, 'a', 'b', 'c'};
  uart.pio_write(kScr, scr_and_beyond);
  EXPECT_EQ(read(kScr), 0x99);
  EXPECT_EQ(sink.contents(), "W");
}

TEST_F(Uart16550Test, EmptyAccessesChangeNothing) {
  ASSERT_EQ(uart.enqueue_input(bytes_of("e")), 1U);
  uart.pio_read(kData, std::span<std::uint8_t>{});
  uart.pio_write(kData, std::span<const std::uint8_t>{});
  uart.pio_write_string(kData, 1, std::span<const std::uint8_t>{});
  EXPECT_EQ(sink.total_bytes(), 0U);
  EXPECT_EQ(read(kData), 'e');
}

// ---- saved state ----

class Uart16550StateTest : public Uart16550Test {
 protected:
  // Puts the device in a state where every field differs from its reset value, mid-way through input.
  void make_busy() {
    write(kLcr, 0x83);
    write(kData, 0x01);
    write(kIer, 0x02);
    write(kLcr, 0x1b);
    write(kIer, 0x03);
    write(kIirFcr, 0x01);
    write(kMcr, 0x0b);
    write(kScr, 0x5a);
    write(kData, 'T');  // THR empty now pending
    ASSERT_EQ(uart.enqueue_input(bytes_of("queued input")), 12U);
    ASSERT_EQ(read(kData), 'q');
    ASSERT_EQ(read(kData), 'u');
  }

  static DeviceState with_payload(std::vector<std::uint8_t> bytes) {
    return DeviceState{"uart16550", 1, std::move(bytes)};
  }
  // A valid version-1 payload with the given register bytes, pending flag byte and FIFO blob.
  static std::vector<std::uint8_t> make_payload(std::uint8_t pending, std::span<const std::uint8_t> fifo) {
    static constexpr std::array<std::uint8_t, 7> kRegs{0x01, 0x03, 0x08, 0x00, 0x11, 0x0c, 0x00};
    StateWriter w;
    for (std::uint8_t reg : kRegs) w.u8(reg);
    w.u8(pending);
    w.blob(fifo);
    return w.take();
  }

  // A refused restore must leave the device exactly as it was.
  void expect_refused_and_unchanged(const DeviceState& bad) {
    const DeviceState before = uart.save_state();
    const auto levels_before = line.levels.size();
    const auto result = uart.restore_state(bad);
    ASSERT_FALSE(result.has_value());
    EXPECT_FALSE(result.error().message.empty());
    const DeviceState after = uart.save_state();
    EXPECT_EQ(after.payload, before.payload);
    EXPECT_EQ(line.levels.size(), levels_before) << "a refused restore must not touch the interrupt line";
  }
};

TEST_F(Uart16550StateTest, SavedStateNamesKindAndVersion) {
  const DeviceState s = uart.save_state();
  EXPECT_EQ(s.kind, "uart16550");
  EXPECT_EQ(s.version, 1);
}

TEST_F(Uart16550StateTest, RoundTripMidTrafficPreservesRegistersAndFifo) {
  make_busy();
  const DeviceState saved = uart.save_state();

  RingSink other_sink(64);
  RecordingLine other_line;
  Uart16550 copy(other_sink, other_line);
  ASSERT_TRUE(copy.restore_state(saved).has_value());
  EXPECT_EQ(copy.save_state().payload, saved.payload);
  EXPECT_TRUE(other_line.asserted()) << "restored RX data with RX interrupt enabled and OUT2 open";

  auto reg = [&copy](std::uint16_t offset) {
    std::array<std::uint8_t, 1> b{};
    copy.pio_read(offset, b);
    return int{b[0]};
  };
  EXPECT_EQ(reg(kLcr), 0x1b);
  EXPECT_EQ(reg(kMcr), 0x0b);
  EXPECT_EQ(reg(kScr), 0x5a);
  EXPECT_EQ(reg(kIer), 0x03);
  EXPECT_EQ(reg(kIirFcr), kIirRxAvailable | kIirFifoEnabled);
  EXPECT_EQ(drain(copy), "eued input");
  EXPECT_EQ(reg(kIirFcr), kIirThrEmpty | kIirFifoEnabled) << "pending THR empty survived the round trip";
  EXPECT_EQ(reg(kIirFcr), kIirNone | kIirFifoEnabled);
  {
    const std::array<std::uint8_t, 1> dlab{0x9b};
    copy.pio_write(kLcr, dlab);
  }
  EXPECT_EQ(reg(kData), 0x01);
  EXPECT_EQ(reg(kIer), 0x02);
  EXPECT_EQ(other_sink.total_bytes(), 0U) << "restore replays no output";

  // The source device is untouched by having been saved.
  EXPECT_EQ(drain(uart), "eued input");
}

TEST_F(Uart16550StateTest, RestoreReplacesExistingState) {
  const DeviceState fresh = uart.save_state();
  make_busy();
  ASSERT_TRUE(uart.restore_state(fresh).has_value());
  EXPECT_EQ(uart.save_state().payload, fresh.payload);
  EXPECT_EQ(read(kLsr), kLsrThrEmptyIdle) << "old FIFO contents discarded";
  EXPECT_EQ(read(kScr), 0);
  EXPECT_FALSE(line.asserted());
}

TEST_F(Uart16550StateTest, FullFifoRoundTrips) {
  std::vector<std::uint8_t> input(Uart16550::kRxFifoCapacity);
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<std::uint8_t>(i * 3);
  ASSERT_EQ(uart.enqueue_input(input), input.size());
  const DeviceState saved = uart.save_state();
  RingSink other_sink(1);
  RecordingLine other_line;
  Uart16550 copy(other_sink, other_line);
  ASSERT_TRUE(copy.restore_state(saved).has_value());
  const std::string got = drain(copy);
  ASSERT_EQ(got.size(), input.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(static_cast<std::uint8_t>(got[i]), input[i]);
}

TEST_F(Uart16550StateTest, RestoreMasksRegisterBitsAHostileStateSets) {
  StateWriter w;
  for (int i = 0; i < 7; ++i) w.u8(0xff);
  w.boolean(false);
  w.blob(std::span<const std::uint8_t>{});
  ASSERT_TRUE(uart.restore_state(with_payload(w.take())).has_value());
  write(kLcr, 0x03);
  EXPECT_EQ(read(kIer), 0x0f);
  EXPECT_EQ(read(kMcr), 0x1f);
}

TEST_F(Uart16550StateTest, RefusesAnotherDevicesState) {
  make_busy();
  DeviceState s = uart.save_state();
  s.kind = "i8042";
  expect_refused_and_unchanged(s);
  s.kind = "";
  expect_refused_and_unchanged(s);
}

TEST_F(Uart16550StateTest, RefusesUnknownVersions) {
  make_busy();
  DeviceState s = uart.save_state();
  for (std::uint16_t v : {std::uint16_t{0}, std::uint16_t{2}, std::uint16_t{0xffff}}) {
    s.version = v;
    expect_refused_and_unchanged(s);
  }
}

TEST_F(Uart16550StateTest, RefusesEveryTruncation) {
  make_busy();
  const DeviceState good = uart.save_state();
  ASSERT_GT(good.payload.size(), 12U);
  for (std::size_t n = 0; n < good.payload.size(); ++n) {
    SCOPED_TRACE(n);
    DeviceState cut = good;
    cut.payload.resize(n);
    expect_refused_and_unchanged(cut);
  }
}

TEST_F(Uart16550StateTest, RefusesTrailingBytes) {
  make_busy();
  DeviceState s = uart.save_state();
  s.payload.push_back(0);
  expect_refused_and_unchanged(s);
}

TEST_F(Uart16550StateTest, RefusesAFifoLargerThanTheDeviceHolds) {
  make_busy();
  const std::vector<std::uint8_t> oversize(Uart16550::kRxFifoCapacity + 1, 'x');
  expect_refused_and_unchanged(with_payload(make_payload(0, oversize)));

  // A length prefix claiming 4 GiB with nothing behind it.
  std::vector<std::uint8_t> huge = make_payload(0, {});
  for (std::size_t i = huge.size() - 4; i < huge.size(); ++i) huge[i] = 0xff;
  expect_refused_and_unchanged(with_payload(std::move(huge)));
}

TEST_F(Uart16550StateTest, AcceptsAFifoOfExactlyTheCapacity) {
  const std::vector<std::uint8_t> full(Uart16550::kRxFifoCapacity, 'f');
  ASSERT_TRUE(uart.restore_state(with_payload(make_payload(0, full))).has_value());
  EXPECT_EQ(drain(uart), std::string(Uart16550::kRxFifoCapacity, 'f'));
}

TEST_F(Uart16550StateTest, RefusesAPendingFlagThatIsNotABoolean) {
  make_busy();
  expect_refused_and_unchanged(with_payload(make_payload(2, {})));
  expect_refused_and_unchanged(with_payload(make_payload(0xff, {})));
}

}  // namespace
}  // namespace tilehv::vdevices
