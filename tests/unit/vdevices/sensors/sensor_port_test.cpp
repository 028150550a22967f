// Tests for SensorPort: the stream's header and lines, rate commands in any fragmentation,
// malformed input, and backpressure with counted drops.
#include "sensors/sensor_port.hpp"

#include <gtest/gtest.h>

#include <map>

#include "unit/vdevices/sensors/port_reader.hpp"

namespace tilehv::vdevices::sensors {
namespace {

using testing::drain;
using testing::lines_of;
using testing::samples_of;
using testing::send;
using testing::synthetic_port;

constexpr std::uint64_t kS = 1'000'000'000;

TEST(SensorPort, StartsWithTheHeaderAndDescriptors) {
  auto port = synthetic_port(SensorKind::mmwave, 1);
  EXPECT_EQ(port->port_name(), "sensor.mmwave0");
  EXPECT_EQ(drain(*port),
            "#tilehv-sensor v1 name=mmwave0 kind=mmwave source=synthetic channels=3\n"
            "#channel 0 name=presence unit=bool scale=1000 min=0 max=1000 rate=10000 min_rate=1000 max_rate=50000\n"
            "#channel 1 name=range unit=m scale=1000 min=0 max=20000 rate=10000 min_rate=1000 max_rate=50000\n"
            "#channel 2 name=velocity unit=m/s scale=1000 min=-10000 max=10000 rate=10000 min_rate=1000 max_rate=50000\n");
  EXPECT_FALSE(port->has_output());
  ASSERT_TRUE(port->advance_to(0));
  EXPECT_TRUE(port->has_output());
  EXPECT_EQ(lines_of(drain(*port)).size(), 3u);  // one sample per channel at t = 0
}

TEST(SensorPort, AcceptedRateChangesTheStream) {
  auto port = synthetic_port(SensorKind::thermal, 1);
  ASSERT_TRUE(port->advance_to(2 * kS));
  (void)drain(*port);
  EXPECT_EQ(send(*port, "rate temperature 4000\n"), 22u);
  EXPECT_EQ(drain(*port), "#ok rate 0 4000 from=2250000000\n");
  ASSERT_TRUE(port->advance_to(3 * kS));
  std::vector<std::uint64_t> times;
  for (const Sample& s : samples_of(drain(*port))) times.push_back(s.timestamp_ns);
  EXPECT_EQ(times, (std::vector<std::uint64_t>{2'250'000'000, 2'500'000'000, 2'750'000'000, 3'000'000'000}));
  ASSERT_EQ(send(*port, "describe\n"), 9u);
  EXPECT_EQ(lines_of(drain(*port))[1],
            "#channel 0 name=temperature unit=degC scale=1000 min=-40000 max=125000 rate=4000 min_rate=100 "
            "max_rate=10000");
}

TEST(SensorPort, RefusesRatesOutsideThePolicyBounds) {
  auto sensor = *Sensor::create(SensorSpec{"t0", SensorKind::thermal, 4});
  ASSERT_TRUE(sensor.restrict_rates(0, 500, 2'000));
  auto port = std::move(*SensorPort::create(std::move(*SyntheticSource::create(std::move(sensor), {}))));
  (void)drain(*port);
  (void)send(*port, "rate 0 5000\nrate 0 100\nrate 0 2000\nrate 1 1000\nrate humidity 1000\n");
  EXPECT_EQ(lines_of(drain(*port)),
            (std::vector<std::string>{"#error rate 0 5000: 5000 mHz is above max_rate 2000 mHz",
                                      "#error rate 0 100: 100 mHz is below min_rate 500 mHz",
                                      "#ok rate 0 2000 from=0",
                                      "#error rate: no channel \"1\"; channels are 0..0 or their names",
                                      "#error rate: no channel \"humidity\"; channels are 0..0 or their names"}));
  EXPECT_EQ(port->metrics().commands, 5u);
  EXPECT_EQ(port->metrics().commands_refused, 4u);
}

TEST(SensorPort, CommandsSurviveAnyFragmentation) {
  const std::string input = "rate 1 2000\r\nbogus\n\nrate vibration 2000000\n";
  auto whole = synthetic_port(SensorKind::piezo, 1);
  (void)drain(*whole);
  ASSERT_EQ(send(*whole, input), input.size());
  const std::string expected = drain(*whole);
  EXPECT_EQ(expected,
            "#ok rate 1 2000 from=0\n"
            "#error unknown command \"bogus\"; expected rate or describe\n"
            "#ok rate 0 2000000 from=0\n");
  for (const std::size_t piece : {1, 2, 3, 5, 7, 13}) {
    auto port = synthetic_port(SensorKind::piezo, 1);
    (void)drain(*port);
    for (std::size_t i = 0; i < input.size(); i += piece) {
      const std::string_view fragment = std::string_view(input).substr(i, piece);
      ASSERT_EQ(send(*port, fragment), fragment.size());
    }
    EXPECT_EQ(drain(*port), expected) << piece;
  }
}

TEST(SensorPort, OverlongAndBinaryLinesAreAnsweredNotFatal) {
  auto port = synthetic_port(SensorKind::thermal, 1);
  (void)drain(*port);
  std::string junk(10'000, 'x');
  junk += std::string_view("\nrate 0 \xff\x00\x01\n", 12);
  junk += std::string(256, 'y') + "\n";  // exactly the bound: parsed, and refused as unknown
  junk += "rate 0 5000\n";
  ASSERT_EQ(send(*port, junk), junk.size());
  const std::vector<std::string> lines = lines_of(drain(*port));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "#error command longer than 256 bytes");
  EXPECT_EQ(lines[1], "#error command holds the byte 0xff; commands are printable ASCII");
  EXPECT_EQ(lines[2].substr(0, 25), "#error unknown command \"y");
  EXPECT_EQ(lines[3], "#ok rate 0 5000 from=0");
}

TEST(SensorPort, GuestInputWaitsWhileRepliesAreUnread) {
  auto port = synthetic_port(SensorKind::thermal, 1);
  (void)drain(*port);
  std::string flood;
  for (int i = 0; i < 100; ++i) flood += "nope\n";
  const std::size_t first = send(*port, flood);
  // The lines that fit, plus the start of the next one: only a newline waits for room.
  EXPECT_EQ(first, SensorPort::kMaxControlLines * 5 + 4);
  EXPECT_EQ(send(*port, std::string_view(flood).substr(first)), 0u);
  EXPECT_EQ(lines_of(drain(*port)).size(), SensorPort::kMaxControlLines);
  EXPECT_EQ(send(*port, std::string_view(flood).substr(first)), flood.size() - first);
  EXPECT_EQ(lines_of(drain(*port)).size(), 100 - SensorPort::kMaxControlLines);
}

TEST(SensorPort, ASlowConsumerSeesCountedDropsNeverSilentOnes) {
  auto port = synthetic_port(SensorKind::thermal, 1, PortOptions{10});
  ASSERT_TRUE(port->advance_to(30 * kS));  // 31 samples into a queue of 10
  const std::vector<std::string> lines = lines_of(drain(*port));
  ASSERT_EQ(lines.size(), 2u + 1u + 10u);
  EXPECT_EQ(lines[2], "#dropped 21");
  EXPECT_EQ(lines[3].substr(0, 3), "21 ");  // the oldest went; the guest sees current data
  EXPECT_EQ(port->metrics().samples_produced, 31u);
  EXPECT_EQ(port->metrics().samples_dropped, 21u);
  EXPECT_EQ(port->metrics().samples_delivered, 10u);
}

TEST(SensorPort, EverySeqIsDeliveredOrCountedUnderAnyReadPattern) {
  auto port = synthetic_port(SensorKind::piezo, 2, PortOptions{64});
  std::uint64_t reported = 0;
  std::uint64_t expected_seq = 0;
  std::string carry;
  // Checks every complete line in `carry`: samples come in seq order, gaps exactly as reported.
  auto consume = [&] {
    const std::size_t end = carry.rfind('\n');
    if (end == std::string::npos) return;
    for (const std::string& line : lines_of(std::string_view(carry).substr(0, end + 1))) {
      if (line.starts_with("#dropped ")) {
        const std::uint64_t n = std::stoull(line.substr(9));
        reported += n;
        expected_seq += n;
      } else if (!line.starts_with("#")) {
        ASSERT_EQ(std::stoull(line.substr(0, line.find(' '))), expected_seq) << line;
        ++expected_seq;
      }
    }
    carry.erase(0, end + 1);
  };
  for (std::uint64_t step = 0; step < 400; ++step) {
    ASSERT_TRUE(port->advance_to(step * 7'000'000));
    std::vector<std::uint8_t> buf((step * 37) % 200 + 1);  // mostly slower than 1 kHz of samples
    carry.append(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(port->read(buf)));
    consume();
  }
  carry += drain(*port);
  consume();
  EXPECT_TRUE(carry.empty());
  EXPECT_GT(reported, 0u);
  EXPECT_EQ(reported, port->metrics().samples_dropped);
  EXPECT_EQ(expected_seq, port->metrics().samples_produced);
  EXPECT_EQ(port->metrics().samples_delivered + port->metrics().samples_dropped, port->metrics().samples_produced);
}

TEST(SensorPort, ReopeningStartsCleanWithTheHeader) {
  auto port = synthetic_port(SensorKind::thermal, 1);
  ASSERT_TRUE(port->advance_to(2 * kS));
  (void)drain(*port);
  ASSERT_TRUE(port->advance_to(4 * kS));
  std::vector<std::uint8_t> five(5);
  ASSERT_EQ(port->read(five), 5u);  // a reader took half of sample 3's line, then closed
  port->open();
  const std::vector<std::string> lines = lines_of(drain(*port));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].substr(0, 15), "#tilehv-sensor ");
  EXPECT_EQ(lines[2], "#dropped 1");
  EXPECT_EQ(lines[3].substr(0, 2), "4 ");
  EXPECT_EQ(port->metrics().samples_dropped, 1u);
}

TEST(SensorPort, ReadsInAnyChunkSizeGiveTheSameBytes) {
  std::map<std::size_t, std::string> streams;
  for (const std::size_t chunk : {1, 3, 64, 65'536}) {
    auto port = synthetic_port(SensorKind::poe, 3);
    ASSERT_TRUE(port->advance_to(20 * kS));
    streams[chunk] = drain(*port, chunk);
  }
  for (const auto& [chunk, stream] : streams) EXPECT_EQ(stream, streams[65'536]) << chunk;
}

TEST(SensorPort, TimeNeverGoesBack) {
  auto port = synthetic_port(SensorKind::thermal, 1);
  ASSERT_TRUE(port->advance_to(5 * kS));
  ASSERT_TRUE(port->advance_to(2 * kS));
  EXPECT_EQ(port->now_ns(), 5 * kS);
  EXPECT_EQ(samples_of(drain(*port)).size(), 6u);
}

TEST(SensorPort, RefusesBadOptions) {
  auto sensor = *Sensor::create(SensorSpec{"t0", SensorKind::thermal, 4});
  EXPECT_FALSE(SensorPort::create(nullptr));
  EXPECT_FALSE(SensorPort::create(std::move(*SyntheticSource::create(sensor, {})), PortOptions{0}));
  EXPECT_FALSE(SyntheticSource::create(sensor, SyntheticParams{1, 999'999'999}));
}

}  // namespace
}  // namespace tilehv::vdevices::sensors
