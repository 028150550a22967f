// Tests for TraceSource: a replay through a port is bit-exact to the trace written here, refuses
// rate changes, ends with "#end", and restores only against the same trace.
#include "sensors/trace_source.hpp"

#include <gtest/gtest.h>

#include "sensors/decimal.hpp"
#include "unit/vdevices/sensors/port_reader.hpp"

namespace tilehv::vdevices::sensors {
namespace {

using testing::drain;
using testing::lines_of;
using testing::samples_of;
using testing::send;

// An AWG trace with awkward values: negative-free but with every fraction length, equal timestamps
// across channels, and irregular spacing.
constexpr std::string_view kTrace =
    "tilehv-sensor-trace,1,awg7,awg\n"
    "timestamp_ns,channel,value\n"
    "0,water_flow,0\n"
    "0,humidity,55.5\n"
    "999999999,water_flow,6.25\n"
    "1000000000,humidity,54.125\n"
    "1000000000,water_flow,100\n"
    "7777777777,humidity,0.001\n"
    "18446744073709551615,humidity,100.000\n";

std::unique_ptr<SensorPort> replay_port(std::string_view text = kTrace, TraceFormat format = TraceFormat::csv) {
  auto trace = parse_trace(text, format, "trace");
  EXPECT_TRUE(trace) << trace.error().message;
  return std::move(*SensorPort::create(TraceSource::create(std::move(*trace))));
}

TEST(SensorReplay, StreamIsBitExactToTheTrace) {
  auto port = replay_port();
  ASSERT_TRUE(port->advance_to(UINT64_MAX));
  const std::vector<std::string> lines = lines_of(drain(*port));
  const std::vector<std::string> expected = {
      "#tilehv-sensor v1 name=awg7 kind=awg source=trace channels=2",
      "#channel 0 name=water_flow unit=mL/min scale=1000 min=0 max=100000 rate=1000 min_rate=100 max_rate=10000",
      "#channel 1 name=humidity unit=%RH scale=1000 min=0 max=100000 rate=1000 min_rate=100 max_rate=10000",
      "0 0 0 0",
      "1 0 1 55500",
      "2 999999999 0 6250",
      "3 1000000000 1 54125",
      "4 1000000000 0 100000",
      "5 7777777777 1 1",
      "6 18446744073709551615 1 100000",
      "#end",
  };
  EXPECT_EQ(lines, expected);
}

TEST(SensorReplay, ValuesMatchTheTraceRecordForRecord) {
  // Written here from integers, so nothing but the parser and the port stand between trace and stream.
  std::string text = "tilehv-sensor-trace,1,poe0,poe,ports=3\ntimestamp_ns,channel,value\n";
  std::vector<Sample> expected;
  for (std::uint64_t i = 0; i < 3'000; ++i) {
    const auto channel = static_cast<std::uint32_t>(i % 3);
    const auto value = static_cast<std::int64_t>((i * 7'919) % 90'001);
    const std::uint64_t ts = (i / 3) * 333'333'333;
    text += std::to_string(ts) + ",port" + std::to_string(channel) + "," + format_milli(value) + "\n";
    expected.push_back(Sample{channel, i, ts, value});
  }
  for (const TraceFormat format : {TraceFormat::csv, TraceFormat::jsonl}) {
    auto trace = parse_trace(text, TraceFormat::csv, "poe.csv");
    ASSERT_TRUE(trace);
    auto port = replay_port(format_trace(*trace, format), format);
    std::string stream;
    for (std::uint64_t t = 0; t < 400 * 1'000'000'000ULL; t += 7'000'000'000ULL) {
      ASSERT_TRUE(port->advance_to(t));
      stream += drain(*port, 100);
    }
    EXPECT_EQ(samples_of(stream), expected);
    EXPECT_EQ(port->metrics().samples_dropped, 0u);
  }
}

TEST(SensorReplay, RefusesRateChanges) {
  auto port = replay_port();
  (void)drain(*port);
  EXPECT_EQ(send(*port, "rate humidity 2000\n"), 19u);
  EXPECT_EQ(drain(*port), "#error rate 1 2000: the rate of a replayed trace is fixed by its timestamps\n");
}

TEST(SensorReplay, RestoresOnlyAgainstTheSameTrace) {
  auto port = replay_port();
  ASSERT_TRUE(port->advance_to(999'999'999));
  const DeviceState state = port->save_state();

  auto same = replay_port();
  ASSERT_TRUE(same->restore_state(state));
  ASSERT_TRUE(same->advance_to(UINT64_MAX));
  ASSERT_TRUE(port->advance_to(UINT64_MAX));
  EXPECT_EQ(drain(*same), drain(*port));

  std::string edited(kTrace);
  edited.replace(edited.find("6.25"), 4, "6.26");
  auto other = replay_port(edited);
  auto refused = other->restore_state(state);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("saved while replaying another trace"), std::string::npos);
}

}  // namespace
}  // namespace tilehv::vdevices::sensors
