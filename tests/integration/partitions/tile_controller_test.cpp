// Integration tests of the tile-controller example kernels (guest-sdk/examples/tile-controller): real
// partitions read a thermal stream that the I/O plane in this process serves on the console port
// sensor.thermal0, and send their actuator commands and telemetry as UDP over a TAP interface to
// sockets in this process, which compare what arrives.
//
// The stream is the synthetic thermal model (seed kSeed) sampled once per virtual second over a
// 600 s "day", so it sweeps from 18.6 to 24.7 °C, and replayed as a trace every 2 ms: a thermal
// sensor samples at 10 Hz at most and the plane paces virtual time in real time, so the live
// source would need minutes for what this replays in a second. A trace also starts at its first
// record whatever the guest's boot time, where a rate command's first sample depends on when the
// command arrives (docs/sensors.md): the runs compared here see the very same stream.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <gtest/gtest.h>

#include "ioplane/io_plane.hpp"
#include "sensors/synthetic_models.hpp"
#include "sensors/trace.hpp"
#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"
#include "support/host_tap.hpp"
#include "support/temp_dir.hpp"
#include "support/udp_collector.hpp"
#include "vmm/exit_status.hpp"

namespace tilehv {
namespace {

namespace sensors = vdevices::sensors;

constexpr std::uint64_t kSeed = 1;
constexpr std::uint64_t kModelPeriodNs = 1'000'000'000;
constexpr std::uint64_t kDayNs = 600'000'000'000;
constexpr std::uint64_t kReplayPeriodNs = 2'000'000;
// Inputs of the comparison runs: beyond the moving average's window of 64 several times over (so
// v2's running sum drops old values many times) and across the band of the v3 test.
constexpr std::size_t kInputs = 240;
constexpr std::size_t kTelemetryEvery = 10;
// The stream starts at 19.6 °C, falls to 18.6 and rises through 19.5 again by input 150: around
// this setpoint the valve moves over its whole range (from closed to fully open and back) instead of
// staying at one end.
constexpr std::int64_t kSetpoint = 19'500;
constexpr std::uint16_t kActuatorPort = 47808;   // the controller's defaults
constexpr std::uint16_t kTelemetryPort = 47809;

// Addresses of this process's own (HostTap names the TAP after the pid too): test processes run in
// parallel, and another one must not hold these addresses. Each process takes a /30 of
// 10.233.0.0/16 (host .1, guest .2) by its pid: 16384 of them, so processes running at once
// practically never share one.
const unsigned kSubnet = static_cast<unsigned>(::getpid() % 16384) * 4;
const std::string kHostIp = fmt::format("10.233.{}.{}", kSubnet / 256, kSubnet % 256 + 1);
const std::string kGuestIp = fmt::format("10.233.{}.{}", kSubnet / 256, kSubnet % 256 + 2);
const std::string kHostCidr = kHostIp + "/30";

struct Record {
  std::uint64_t timestamp_ns;
  std::int64_t milli;
};

std::vector<Record> thermal_records(std::size_t count, std::uint64_t replay_period_ns = kReplayPeriodNs) {
  std::vector<Record> records;
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t value = sensors::synthetic_value(sensors::SensorKind::thermal, 0, i * kModelPeriodNs,
                                                        sensors::SyntheticParams{kSeed, kDayNs});
    records.push_back(Record{i * replay_period_ns, std::clamp<std::int64_t>(value, -40'000, 125'000)});
  }
  return records;
}

std::string thermal_trace(const std::vector<Record>& records) {
  auto sensor = sensors::Sensor::create(sensors::SensorSpec{"thermal0", sensors::SensorKind::thermal, 4});
  if (!sensor) throw std::runtime_error(sensor.error().message);
  sensors::Trace trace{std::move(*sensor), {}};
  for (const Record& r : records) trace.records.push_back(sensors::TraceRecord{r.timestamp_ns, 0, r.milli});
  return sensors::format_trace(trace, sensors::TraceFormat::csv);
}

// The integer after " key=" (or at the start) in a payload line.
std::optional<std::int64_t> field(const std::string& line, const std::string& key) {
  const std::string token = key + "=";
  std::size_t at = line.find(" " + token);
  if (at == std::string::npos) return std::nullopt;
  at += 1 + token.size();
  try {
    return std::stoll(line.substr(at));
  } catch (...) {
    return std::nullopt;
  }
}

// A payload with its valve field replaced, to compare everything else.
std::string without_valve(const std::string& line) { return line.substr(0, line.find(" valve=")); }

std::uint64_t fnv1a64(const std::string& bytes, std::uint64_t hash = 0xcbf29ce484222325ULL) {
  for (unsigned char c : bytes) hash = (hash ^ c) * 0x100000001b3ULL;
  return hash;
}

// The printed digest must be over the payloads in the order sent: a command per input, and after
// every kTelemetryEvery-th the telemetry.
std::uint64_t digest_in_send_order(const std::vector<std::string>& commands, const std::vector<std::string>& telemetry) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    hash = fnv1a64(commands[i], hash);
    if ((i + 1) % kTelemetryEvery == 0 && (i + 1) / kTelemetryEvery <= telemetry.size()) {
      hash = fnv1a64(telemetry[(i + 1) / kTelemetryEvery - 1], hash);
    }
  }
  return hash;
}

// The moving average the payloads must carry: the mean of the last 64 temperatures (fewer at
// first), rounded half away from zero.
std::int64_t window_average(const std::vector<Record>& records, std::size_t input) {
  const std::size_t first = input >= 64 ? input - 63 : 0;
  std::int64_t sum = 0;
  for (std::size_t i = first; i <= input; ++i) sum += records[i].milli;
  const auto n = static_cast<std::int64_t>(input - first + 1);
  return sum >= 0 ? (sum + n / 2) / n : -((-sum + n / 2) / n);
}

struct ControllerRun {
  testing::ProcessResult process;
  std::vector<std::string> commands;
  std::vector<std::string> telemetry;

  [[nodiscard]] std::string digest() const {
    const std::string key = ": digest ";
    const auto at = process.out.find(key);
    return at == std::string::npos ? std::string() : process.out.substr(at + key.size(), 16);
  }
};

class TileControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const std::string reason = testing::host_tap_unavailable_reason(); !reason.empty()) GTEST_SKIP() << reason;
    TILEHV_REQUIRE_KVM();
    ASSERT_TRUE(tap_.create(kHostCidr)) << "could not set up " << tap_.name();
    ASSERT_TRUE(collector_.bind(kHostIp, kActuatorPort)) << std::strerror(errno);
    ASSERT_TRUE(collector_.bind(kHostIp, kTelemetryPort)) << std::strerror(errno);
  }

  // Runs tile-controller-v<variant> on `sensor` with `cmdline` (after the addresses) until it ends
  // or `timeout` seconds pass (tilehv's own --timeout).
  ControllerRun run(int variant, const ioplane::PlaneSensor& sensor, const std::string& cmdline, const std::string& timeout) {
    ioplane::PlaneConfig config;
    config.sensors = {sensor};
    auto plane = ioplane::IoPlane::create(std::move(config));
    if (!plane) throw std::runtime_error(plane.error());
    const std::string socket = (dir_.path() / "plane.sock").string();
    if (auto listening = (*plane)->listen(socket); !listening) throw std::runtime_error(listening.error());
    const std::vector<std::string> argv = {
        TILEHV_BINARY, "run", "--kernel", testing::guest_kernel(fmt::format("tile-controller-v{}", variant)),
        "--plane", socket, "--console-port", "sensor.thermal0", "--net", "tap:" + tap_.name() + ",mac=02:74:68:cc:00:01",
        "--cmdline", fmt::format("ip={} peer={} {}", kGuestIp, kHostIp, cmdline), "--timeout", timeout};
    ControllerRun result;
    auto received = collector_.collect(
        [&] { result.process = testing::run_process(argv, testing::with_limit(std::chrono::seconds(60))); });
    result.commands = std::move(received[kActuatorPort]);
    result.telemetry = std::move(received[kTelemetryPort]);
    return result;
  }

  // The thermal stream of `records`, replayed.
  ioplane::PlaneSensor replay(const std::vector<Record>& records) {
    ioplane::PlaneSensor sensor;
    sensor.spec = sensors::SensorSpec{"thermal0", sensors::SensorKind::thermal, 4};
    sensor.trace = dir_.write("thermal0.csv", thermal_trace(records));
    return sensor;
  }

  testing::TempDir dir_;
  testing::HostTap tap_{"tilehvc"};
  testing::UdpCollector collector_;
};

TEST_F(TileControllerTest, V2SendsTheSameBytesAsV1) {
  // More records than inputs: count= ends the runs, not the end of the trace.
  const auto records = thermal_records(kInputs + 40);
  const std::string args = fmt::format("count={} telemetry_every={} setpoint={}", kInputs, kTelemetryEvery, kSetpoint);
  const ControllerRun v1 = run(1, replay(records), args, "30");
  const ControllerRun v2 = run(2, replay(records), args, "30");
  ASSERT_TRUE(v1.process.exited && v1.process.status == 0) << v1.process.describe();
  ASSERT_TRUE(v2.process.exited && v2.process.status == 0) << v2.process.describe();
  const std::string summary = fmt::format(": done, {0} inputs, {0} commands, {1} telemetry, 0 unsent, 0 malformed lines",
                                          kInputs, kInputs / kTelemetryEvery);
  EXPECT_NE(v1.process.out.find(summary), std::string::npos) << v1.process.describe();
  EXPECT_NE(v2.process.out.find(summary), std::string::npos) << v2.process.describe();

  ASSERT_EQ(v1.commands.size(), kInputs);
  ASSERT_EQ(v1.telemetry.size(), kInputs / kTelemetryEvery);
  EXPECT_EQ(v1.commands, v2.commands);
  EXPECT_EQ(v1.telemetry, v2.telemetry);
  EXPECT_EQ(v1.digest(), v2.digest());
  EXPECT_EQ(v1.digest(), fmt::format("{:016x}", digest_in_send_order(v1.commands, v1.telemetry)))
      << v1.process.describe();

  // And they are the commands of these very inputs: one per sample, in order, averaged over 64.
  for (std::size_t i = 0; i < kInputs; ++i) {
    const std::string& c = v1.commands[i];
    ASSERT_TRUE(c.starts_with("cmd seq=") && c.ends_with("\n")) << c;
    EXPECT_EQ(field(c, "seq"), static_cast<std::int64_t>(i + 1)) << c;
    EXPECT_EQ(field(c, "t"), static_cast<std::int64_t>(records[i].timestamp_ns)) << c;
    EXPECT_EQ(field(c, "temp"), records[i].milli) << c;
    EXPECT_EQ(field(c, "avg"), window_average(records, i)) << c;
    const auto valve = field(c, "valve");
    ASSERT_TRUE(valve.has_value()) << c;
    EXPECT_TRUE(*valve >= 0 && *valve <= 1000) << c;
  }
  // The valve moves through its range: the stream crosses the setpoint.
  std::set<std::int64_t> valves;
  for (const std::string& c : v1.commands) valves.insert(field(c, "valve").value_or(-1));
  EXPECT_GE(valves.size(), 50U);
  EXPECT_TRUE(valves.contains(0) && valves.contains(1000));
  for (std::size_t k = 0; k < v1.telemetry.size(); ++k) {
    const std::string& t = v1.telemetry[k];
    const std::size_t last = (k + 1) * kTelemetryEvery;  // the input that completed the window
    EXPECT_TRUE(t.starts_with(fmt::format("tel seq={} n={} ", last, kTelemetryEvery))) << t;
    std::int64_t low = records[last - kTelemetryEvery].milli;
    std::int64_t high = low;
    for (std::size_t i = last - kTelemetryEvery; i < last; ++i) {
      low = std::min(low, records[i].milli);
      high = std::max(high, records[i].milli);
    }
    EXPECT_EQ(field(t, "min"), low) << t;
    EXPECT_EQ(field(t, "max"), high) << t;
    EXPECT_EQ(field(t, "valve"), field(v1.commands[last - 1], "valve")) << t;
  }
}

TEST_F(TileControllerTest, V3DivergesFromV1ExactlyOnTheBand) {
  const auto records = thermal_records(kInputs + 40);
  // The stream falls through 19.1..19.2 °C near input 20, where the valve is opening, and rises
  // through it near input 130, where the valve is fully open (v3 sends 1007 there).
  const std::int64_t low = 19'100, high = 19'200;
  std::vector<bool> in_band(kInputs);
  std::size_t in_band_count = 0;
  for (std::size_t i = 0; i < kInputs; ++i) {
    in_band[i] = records[i].milli >= low && records[i].milli <= high;
    in_band_count += in_band[i] ? 1 : 0;
  }
  ASSERT_GE(in_band_count, 1U) << "the stream must cross the band";
  ASSERT_LT(in_band_count, kInputs / 2) << "the band must be narrow";

  const std::string args = fmt::format("count={} telemetry_every={} setpoint={}", kInputs, kTelemetryEvery, kSetpoint);
  const ControllerRun v1 = run(1, replay(records), args, "30");
  const ControllerRun v3 = run(3, replay(records), fmt::format("{} band={}:{}", args, low, high), "30");
  ASSERT_TRUE(v1.process.exited && v1.process.status == 0) << v1.process.describe();
  ASSERT_TRUE(v3.process.exited && v3.process.status == 0) << v3.process.describe();
  ASSERT_EQ(v1.commands.size(), kInputs);
  ASSERT_EQ(v3.commands.size(), kInputs);
  std::size_t diverged = 0;
  for (std::size_t i = 0; i < kInputs; ++i) {
    if (!in_band[i]) {
      EXPECT_EQ(v3.commands[i], v1.commands[i]) << "input " << i + 1 << " is outside the band";
      continue;
    }
    ++diverged;
    EXPECT_EQ(without_valve(v3.commands[i]), without_valve(v1.commands[i]));
    EXPECT_EQ(*field(v3.commands[i], "valve"), *field(v1.commands[i], "valve") + 7) << v3.commands[i];
  }
  EXPECT_EQ(diverged, in_band_count);
  // Telemetry carries the latest valve: it differs where a window ended on an input in the band.
  ASSERT_EQ(v3.telemetry.size(), v1.telemetry.size());
  for (std::size_t k = 0; k < v1.telemetry.size(); ++k) {
    const std::size_t last = (k + 1) * kTelemetryEvery - 1;
    if (in_band[last]) {
      EXPECT_NE(v3.telemetry[k], v1.telemetry[k]);
    } else {
      EXPECT_EQ(v3.telemetry[k], v1.telemetry[k]);
    }
  }
  EXPECT_NE(v3.digest(), v1.digest());
}

// The faulty variants run like v1 for after=N inputs; the trace holds many more.
constexpr std::size_t kAfter = 30;

// The first `after` commands of a faulty variant are v1's: one per input, in order.
void expect_proper_commands(const std::vector<std::string>& commands, const std::vector<Record>& records,
                            std::size_t after = kAfter) {
  for (std::size_t i = 0; i < std::min(commands.size(), after); ++i) {
    EXPECT_EQ(field(commands[i], "seq"), static_cast<std::int64_t>(i + 1)) << commands[i];
    EXPECT_EQ(field(commands[i], "temp"), records[i].milli) << commands[i];
  }
}

TEST_F(TileControllerTest, V4CrashesWithACpuExceptionAfterNInputs) {
  const auto records = thermal_records(400);
  const ControllerRun v4 = run(4, replay(records), fmt::format("after={}", kAfter), "30");
  ASSERT_TRUE(v4.process.exited) << v4.process.describe();
  // The SDK's exception report, then its exit value for an unhandled CPU exception.
  EXPECT_EQ(v4.process.status, 99) << v4.process.describe();
  EXPECT_NE(v4.process.out.find("CPU EXCEPTION 0 (#DE"), std::string::npos) << v4.process.describe();
  EXPECT_EQ(v4.process.out.find(": done,"), std::string::npos) << v4.process.describe();
  EXPECT_EQ(v4.commands.size(), kAfter);
  EXPECT_EQ(v4.telemetry.size(), kAfter / 10);
  expect_proper_commands(v4.commands, records);
}

TEST_F(TileControllerTest, V5HangsAfterNInputsUntilTheTimeout) {
  const auto records = thermal_records(2000);
  const ControllerRun v5 = run(5, replay(records), fmt::format("after={}", kAfter), "3");
  ASSERT_TRUE(v5.process.exited) << v5.process.describe();
  EXPECT_EQ(v5.process.status, vmm::kExitTimeout) << v5.process.describe();
  EXPECT_EQ(v5.process.out.find(": done,"), std::string::npos) << v5.process.describe();
  // At most N, and here exactly N: inputs kept coming for a second and more after the N-th, and none
  // of them was answered.
  EXPECT_EQ(v5.commands.size(), kAfter);
  expect_proper_commands(v5.commands, records);
}

TEST_F(TileControllerTest, V6FloodsAfterNInputs) {
  // The thermal sensor's top rate, 10 inputs a second: the flood is measured against what the inputs
  // would justify, and on a loaded host the guest floods more slowly (about 600 datagrams a second
  // alone here, a third of that with six other partitions on two CPUs).
  constexpr std::uint64_t kPeriodNs = 100'000'000;
  constexpr std::size_t kFloodAfter = 10;
  const auto records = thermal_records(100, kPeriodNs);
  const ControllerRun v6 = run(6, replay(records), fmt::format("after={}", kFloodAfter), "3");
  ASSERT_TRUE(v6.process.exited) << v6.process.describe();
  EXPECT_EQ(v6.process.status, vmm::kExitTimeout) << v6.process.describe();
  ASSERT_GE(v6.commands.size(), kFloodAfter);
  expect_proper_commands(v6.commands, records, kFloodAfter);
  // Then the runaway: the last command again and again, numbered on.
  for (std::size_t i = kFloodAfter; i < v6.commands.size(); ++i) {
    const std::string& last_proper = v6.commands[kFloodAfter - 1];
    ASSERT_EQ(v6.commands[i].substr(v6.commands[i].find(" t=")), last_proper.substr(last_proper.find(" t=")));
    ASSERT_TRUE(v6.commands[i].starts_with(fmt::format("cmd seq={} ", i + 1))) << v6.commands[i];
  }
  // The stream cannot have delivered more inputs than its virtual time allows in the whole run.
  const auto inputs_at_most = static_cast<std::size_t>(v6.process.elapsed.count() * 1e9 / kPeriodNs) + 1;
  EXPECT_GT(v6.commands.size(), 4 * inputs_at_most) << v6.process.describe();
  RecordProperty("flood_datagrams", std::to_string(v6.commands.size()));
}

// The live synthetic sensor, at the rate the controller asks for, found without sensor=.
TEST_F(TileControllerTest, FollowsALiveSensorAtTheRateItAsksFor) {
  ioplane::PlaneSensor live;
  live.spec = sensors::SensorSpec{"thermal0", sensors::SensorKind::thermal, 4};
  live.seed = kSeed;
  const ControllerRun v1 = run(1, live, "count=5 telemetry_every=5 rate=10000", "30");
  ASSERT_TRUE(v1.process.exited && v1.process.status == 0) << v1.process.describe();
  EXPECT_NE(v1.process.out.find("thermal0: rate 10000 mHz from "), std::string::npos) << v1.process.describe();
  EXPECT_EQ(v1.commands.size(), 5U);
  ASSERT_EQ(v1.telemetry.size(), 1U);
  EXPECT_TRUE(v1.telemetry[0].starts_with("tel seq=5 n=5 ")) << v1.telemetry[0];
}

TEST(TileControllerOptions, BadValuesAreNamedAndEndTheKernelWithOne) {
  TILEHV_REQUIRE_KVM();
  const struct {
    int variant;
    std::string cmdline;
    std::string message;
  } cases[] = {
      {1, "setpoint=hot", "tile-controller v1: bad setpoint \"hot\""},
      {3, "band=21450:21400", "tile-controller v3: bad band \"21450:21400\""},
      {4, "after=-1", "tile-controller v4: bad after \"-1\""},
      {2, "peer=10.0.0", "tile-controller v2: bad peer \"10.0.0\""},
  };
  for (const auto& c : cases) {
    const auto r = testing::run_process({TILEHV_BINARY, "run", "--kernel",
                                         testing::guest_kernel(fmt::format("tile-controller-v{}", c.variant)),
                                         "--cmdline", c.cmdline, "--timeout", "20"},
                                        testing::with_limit(std::chrono::seconds(30)));
    ASSERT_TRUE(r.exited) << r.describe();
    EXPECT_EQ(r.status, 1) << r.describe();
    EXPECT_NE(r.out.find(c.message), std::string::npos) << r.describe();
  }
}

}  // namespace
}  // namespace tilehv
