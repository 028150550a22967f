// End-to-end tests of shadow partitions through tilehvd: the tile-controller kernels
// (guest-sdk/examples/tile-controller) read a replayed thermal trace and send actuator commands over
// the tile's uplink to sockets in this process, while a candidate runs beside them on the mirrored
// stream. v2 (equivalent) is promoted with every input answered exactly once; v3 (wrong on a narrow
// band) is rejected with the first divergent input named; v4, v5 and v6 are rejected for a crash, a
// hang and a flood; a live partition's outputs are the same bytes with a shadow as without; a bad
// promotion is rolled back with nothing lost.
#include <sys/prctl.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "sensors/synthetic_models.hpp"
#include "sensors/trace.hpp"
#include "support/host_tap.hpp"
#include "support/process.hpp"
#include "support/kvm_available.hpp"
#include "support/udp_collector.hpp"
#include "tile_fixture.hpp"

namespace tilehv {
namespace {

using testing::PartitionSpec;
using testing::named;
namespace sensors = vdevices::sensors;

// 10.236/16 is used by no other test; each test process takes its own /29 by its pid (8192 of them,
// so processes running at once practically never share one): the host .1, partitions from .2.
const unsigned kBase = static_cast<unsigned>(::getpid() % 8192) * 8;
std::string address(unsigned offset) { return fmt::format("10.236.{}.{}", (kBase + offset) / 256, (kBase + offset) % 256); }
const std::string kHostAddress = address(1);
constexpr std::uint16_t kActuatorPort = 47808;
constexpr std::uint16_t kTelemetryPort = 47809;
// 100 inputs a second: a shadow with a quarter of the CPU weight keeps up on a loaded 2-core host.
constexpr std::uint64_t kReplayPeriodNs = 10'000'000;
constexpr std::int64_t kSetpoint = 19'500;
constexpr std::int64_t kBandLow = 19'100, kBandHigh = 19'200;  // v3 adds 7 to the valve in here

// The synthetic thermal model sampled once per virtual second over a 600 s day, replayed every 10 ms
// (as in tile_controller_test.cpp): it falls through v3's band near input 20 and rises through it
// near input 130.
std::string thermal_trace(std::size_t count, const std::string& name = "thermal0", std::uint64_t period_ns = kReplayPeriodNs) {
  auto sensor = sensors::Sensor::create(sensors::SensorSpec{name, sensors::SensorKind::thermal, 4});
  if (!sensor) throw std::runtime_error(sensor.error().message);
  sensors::Trace trace{std::move(*sensor), {}};
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t value = std::clamp<std::int64_t>(
        sensors::synthetic_value(sensors::SensorKind::thermal, 0, i * 1'000'000'000ULL, sensors::SyntheticParams{1, 600'000'000'000ULL}),
        -40'000, 125'000);
    trace.records.push_back(sensors::TraceRecord{i * period_ns, 0, value});
  }
  return sensors::format_trace(trace, sensors::TraceFormat::csv);
}

std::optional<std::int64_t> field(const std::string& line, const std::string& key) {
  const std::string token = " " + key + "=";
  const auto at = line.find(token);
  if (at == std::string::npos) return std::nullopt;
  try {
    return std::stoll(line.substr(at + token.size()));
  } catch (...) {
    return std::nullopt;
  }
}

class TileShadowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TILEHV_REQUIRE_KVM();
    if (const auto reason = testing::host_tap_unavailable_reason(); !reason.empty()) GTEST_SKIP() << reason;
    ASSERT_TRUE(tap_.create(kHostAddress + "/29"));
    ASSERT_TRUE(collector_.bind(kHostAddress, kActuatorPort));
    ASSERT_TRUE(collector_.bind(kHostAddress, kTelemetryPort));
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    daemon_.start();
    trace_ = dir_.write("thermal0.csv", thermal_trace(6000));
    // At the sensor's top rate, 10 inputs a second: a flood is measured against what inputs justify.
    slow_trace_ = dir_.write("slow0.csv", thermal_trace(600, "slow0", 100'000'000));
  }
  void TearDown() override { testing::stop_tile_and_reap(daemon_); }

  PartitionSpec controller(const std::string& name, int host_octet) const {
    PartitionSpec p = named(name);
    p.kernel = "tile-controller-v1";
    p.cmdline = fmt::format("ip={} peer={} setpoint={} telemetry_every=10 band={}:{} after=60", address(static_cast<unsigned>(host_octet)),
                            kHostAddress, kSetpoint, kBandLow, kBandHigh);
    p.devices = {{"network", {{"allowPeers", nlohmann::json::array({"uplink"})}}}, {"sensors", {{{"sensor", "thermal0"}}}}};
    return p;
  }

  // A policy of `partitions`, the replayed sensor (shared, one stream per partition), the uplink and `shadows`.
  std::string policy(const std::vector<PartitionSpec>& partitions, const nlohmann::json& shadows) const {
    auto p = nlohmann::json::parse(testing::policy_text(
        partitions, nlohmann::json::array(),
        nlohmann::json::array({{{"name", "thermal0"}, {"kind", "thermal"}, {"sharedRead", true}, {"source", {{"kind", "trace"}, {"path", trace_}}}},
                               {{"name", "slow0"}, {"kind", "thermal"}, {"source", {{"kind", "trace"}, {"path", slow_trace_}}}}})));
    p["tile"]["uplink"] = {{"tap", tap_.name()}};
    p["shadows"] = shadows;
    return p.dump(2);
  }

  static nlohmann::json shadow_of(const std::string& live, int variant, const std::string& action, nlohmann::json extra = {}) {
    const std::string image = testing::guest_kernel(fmt::format("tile-controller-v{}", variant));
    nlohmann::json s{{"name", live + "-v" + std::to_string(variant)},
                     {"live", live},
                     {"candidate", {{"image", image}, {"sha256", testing::sha256_of(image)}}},
                     {"action", action},
                     {"promotion", {{"minInputs", 300}, {"minDurationSeconds", 1}}},
                     // A busy test host delays a shadow with a quarter of the CPU weight by seconds.
                     {"watchdogMs", 5000}};
    for (const auto& [k, v] : extra.items()) s[k] = v;
    return s;
  }

  nlohmann::json shadow(const std::string& name) { return daemon_.json("GET", "/v1/shadows/" + name); }

  // Waits until the shadow's state is one of `states`; returns its last view.
  nlohmann::json wait_shadow(const std::string& name, const std::set<std::string>& states, std::chrono::seconds limit = std::chrono::seconds(60)) {
    nlohmann::json view;
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      view = shadow(name);
      if (view.is_object() && states.count(view.value("state", "")) != 0) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return view;
  }

  std::vector<nlohmann::json> events(const std::string& type) {
    std::vector<nlohmann::json> found;
    std::istringstream lines(daemon_.call("GET", "/v1/events").body);
    std::string line;
    while (std::getline(lines, line)) {
      auto e = nlohmann::json::parse(line, nullptr, false);
      if (e.is_object() && e.value("type", "") == type) found.push_back(e);
    }
    return found;
  }

  testing::HostTap tap_{"tlsh"};
  testing::UdpCollector collector_;
  tilehv::testing::TempDir dir_;
  testing::TileDaemon daemon_{dir_.path()};
  std::string trace_;
  std::string slow_trace_;
};

// Every input answered once: the commands' sample timestamps are the trace's, each once, none skipped.
void expect_each_input_answered_once(const std::vector<std::string>& commands) {
  std::vector<std::int64_t> times;
  for (const std::string& c : commands) times.push_back(field(c, "t").value_or(-1));
  std::sort(times.begin(), times.end());
  ASSERT_FALSE(times.empty());
  for (std::size_t i = 0; i < times.size(); ++i) {
    ASSERT_EQ(times[i], static_cast<std::int64_t>(i * kReplayPeriodNs)) << "input " << i + 1 << " lost or answered twice";
  }
}

TEST_F(TileShadowTest, V2IsPromotedAtAnInputBoundaryWithEveryInputAnsweredOnce) {
  nlohmann::json promoted;
  auto received = collector_.collect([&] {
    const auto applied = daemon_.apply(policy({controller("ctl", 2)}, nlohmann::json::array({shadow_of("ctl", 2, "auto-promote")})));
    ASSERT_EQ(applied.status, 200) << applied.body << daemon_.log_text();
    promoted = wait_shadow("ctl-v2", {"promoted", "failed", "aborted"});
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the promoted kernel serves on
    daemon_.apply(policy({}, nlohmann::json::array()));           // and ends: the stream is complete
  });
  ASSERT_EQ(promoted.value("state", ""), "promoted") << promoted.dump(1) << daemon_.log_text();
  EXPECT_EQ(promoted["verdict"]["state"], "passed");
  EXPECT_GE(promoted["summary"]["inputs"].get<std::uint64_t>(), 300U) << promoted.dump(1);
  EXPECT_EQ(promoted["summary"]["divergent"], 0) << promoted.dump(1);
  ASSERT_EQ(events("shadow.promoted").size(), 1U);
  EXPECT_TRUE(std::filesystem::exists(promoted["report"]["html"].get<std::string>()));
  const auto& commands = received[kActuatorPort];
  ASSERT_GT(commands.size(), 300U);
  expect_each_input_answered_once(commands);
  // Numbered by each kernel from its first input: v2 saw them all, so no number repeats or is skipped.
  for (std::size_t i = 0; i < commands.size(); ++i) EXPECT_EQ(field(commands[i], "seq"), static_cast<std::int64_t>(i + 1)) << commands[i];
}

TEST_F(TileShadowTest, V3IsRejectedWithTheFirstDivergentInputNamed) {
  const auto applied = daemon_.apply(policy({controller("ctl", 2)}, nlohmann::json::array({shadow_of("ctl", 3, "auto-promote")})));
  ASSERT_EQ(applied.status, 200) << applied.body << daemon_.log_text();
  const nlohmann::json view = wait_shadow("ctl-v3", {"promoted", "failed", "aborted"});
  ASSERT_EQ(view.value("state", ""), "failed") << view.dump(1) << daemon_.log_text();
  ASSERT_FALSE(view["summary"]["divergences"].empty()) << view.dump(1);
  const nlohmann::json first = view["summary"]["divergences"][0];
  ASSERT_TRUE(first["live"]["message"].is_string()) << first.dump(1);
  const std::string live = first["live"]["message"].get<std::string>();
  EXPECT_EQ(field(live, "valve").value_or(-1) + 7, field(first["shadow"]["message"].get<std::string>(), "valve").value_or(-2))
      << first.dump(1);
  // The input that led to it is among those the report keeps: the sample the command answers (its
  // t= is the sample's timestamp), in the band.
  const std::int64_t t = field(live, "t").value_or(-1);
  std::optional<std::string> input;
  for (const auto& i : first["inputs_before"]) {
    if (!i["bytes"].is_string()) continue;  // a frame (the network's inputs are mirrored too)
    const std::string line = i["bytes"].get<std::string>();
    if (line.find(fmt::format(" {} 0 ", t)) != std::string::npos) input = line;
  }
  ASSERT_TRUE(input.has_value()) << "input t=" << t << " not in " << first["inputs_before"].dump(1);
  const std::int64_t value = std::stoll(input->substr(input->rfind(' ') + 1));
  EXPECT_TRUE(value >= kBandLow && value <= kBandHigh) << *input;
  EXPECT_NE(live.find(fmt::format("temp={}", value)), std::string::npos) << live << " / " << *input;
  EXPECT_EQ(events("shadow.rejected").size(), 1U);
  // The live partition keeps running its own kernel.
  EXPECT_EQ(daemon_.partition("ctl").value("state", ""), "running");
  const auto report = daemon_.call("GET", "/v1/shadows/ctl-v3/report?format=html");
  EXPECT_EQ(report.status, 200);
  EXPECT_NE(report.body.find("<svg"), std::string::npos);
}

TEST_F(TileShadowTest, V4V5AndV6AreRejectedForACrashAHangAndAFlood) {
  PartitionSpec c6 = controller("c6", 6);
  c6.devices["sensors"] = {{{"sensor", "slow0"}}};
  const auto applied = daemon_.apply(policy({controller("c4", 4), controller("c5", 5), c6},
                                            nlohmann::json::array({
                                                // v4 stops answering when it crashes: the crash must be seen before the watchdog.
                                                shadow_of("c4", 4, "auto-promote", {{"watchdogMs", 10000}}),
                                                shadow_of("c5", 5, "auto-promote"),
                                                // v6's extra records diverge too: only the flood may fail it.
                                                shadow_of("c6", 6, "auto-promote",
                                                          {{"watchdogMs", 60000},
                                                           {"promotion", {{"minInputs", 100000}, {"minDurationSeconds", 3600}, {"maxDivergenceRatio", 1}}}})})));
  ASSERT_EQ(applied.status, 200) << applied.body << daemon_.log_text();
  const std::map<std::string, std::set<std::string>> expected = {
      {"c4-v4", {"guest-crash", "guest-exit"}}, {"c5-v5", {"hang"}}, {"c6-v6", {"output-flood"}}};
  for (const auto& [name, kinds] : expected) {
    const nlohmann::json view = wait_shadow(name, {"promoted", "failed", "aborted"});
    ASSERT_EQ(view.value("state", ""), "failed") << name << ": " << view.dump(1);
    ASSERT_FALSE(view["faults"].empty()) << name << ": " << view.dump(1);
    EXPECT_TRUE(kinds.count(view["faults"][0]["kind"].get<std::string>()) != 0) << name << ": " << view["faults"].dump(1);
  }
  for (const char* live : {"c4", "c5", "c6"}) EXPECT_EQ(daemon_.partition(live).value("state", ""), "running") << live;
}

TEST_F(TileShadowTest, TheLiveOutputsAreTheSameBytesWithAShadowAsWithout) {
  const auto run = [&](const nlohmann::json& shadows) {
    auto received = collector_.collect([&] {
      const auto applied = daemon_.apply(policy({controller("ctl", 2)}, shadows));
      ASSERT_EQ(applied.status, 200) << applied.body;
      std::this_thread::sleep_for(std::chrono::seconds(4));
      daemon_.apply(policy({}, nlohmann::json::array()));
    });
    return received[kActuatorPort];
  };
  const auto alone = run(nlohmann::json::array());
  const auto shadowed = run(nlohmann::json::array({shadow_of("ctl", 3, "report", {{"promotion", {{"minInputs", 100000}, {"minDurationSeconds", 3600}, {"maxDivergenceRatio", 1}}}})}));
  ASSERT_GT(alone.size(), 200U);
  ASSERT_GT(shadowed.size(), 200U);
  const std::size_t n = std::min(alone.size(), shadowed.size());
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(shadowed[i], alone[i]) << "command " << i + 1;
}

TEST_F(TileShadowTest, ABadPromotionIsRolledBackWithNothingLost) {
  nlohmann::json after_rollback;
  int old_pid = 0;
  auto received = collector_.collect([&] {
    const auto applied = daemon_.apply(policy(
        {controller("ctl", 2)},
        nlohmann::json::array({shadow_of("ctl", 3, "report",
                                         {{"promotion", {{"minInputs", 100000}, {"minDurationSeconds", 3600}, {"maxDivergenceRatio", 1}}}})})));
    ASSERT_EQ(applied.status, 200) << applied.body << daemon_.log_text();
    ASSERT_EQ(wait_shadow("ctl-v3", {"comparing"}).value("state", ""), "comparing");
    old_pid = daemon_.partition("ctl").value("pid", 0);
    ASSERT_NE(old_pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto promoted = daemon_.call("POST", "/v1/shadows/ctl-v3/promote");
    ASSERT_EQ(promoted.status, 200) << promoted.body << daemon_.log_text();
    EXPECT_NE(daemon_.partition("ctl").value("pid", 0), old_pid);
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    const auto rolled = daemon_.call("POST", "/v1/shadows/ctl-v3/rollback");
    ASSERT_EQ(rolled.status, 200) << rolled.body << daemon_.log_text();
    after_rollback = nlohmann::json::parse(rolled.body);
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    daemon_.apply(policy({}, nlohmann::json::array()));
  });
  EXPECT_EQ(after_rollback.value("state", ""), "rolled-back") << after_rollback.dump(1);
  EXPECT_EQ(events("shadow.promoted").size(), 1U);
  EXPECT_EQ(events("shadow.rolled-back").size(), 1U);
  // The previous kernel answered again, each input handled once by one kernel or the other.
  expect_each_input_answered_once(received[kActuatorPort]);
}

TEST_F(TileShadowTest, ShadowTryPromotesAGeneratedCandidateAndRejectsABadOne) {
  const auto applied = daemon_.apply(policy({controller("ctl", 2)}, nlohmann::json::array()));
  ASSERT_EQ(applied.status, 200) << applied.body;
  const std::string candidate = (dir_.path() / "generated.elf").string();
  const auto try_with = [&](int variant) {
    // The generator is any command that writes the image: here a copy of a built variant.
    return testing::run_process({TILECTL_BINARY, "--socket", daemon_.socket(), "shadow", "try", "ctl", "--candidate", candidate,
                                 "--generator", fmt::format("cp {} \"$TILEHV_CANDIDATE\"", testing::guest_kernel(fmt::format("tile-controller-v{}", variant))),
                                 "--fresh", "--min-inputs", "300", "--min-duration-ms", "1000", "--timeout", "60"},
                                testing::with_limit(std::chrono::seconds(90)));
  };
  const auto good = try_with(2);
  EXPECT_TRUE(good.exited && good.status == 0) << good.describe() << daemon_.log_text();
  EXPECT_NE(good.out.find("shadow try-ctl of ctl: promoted"), std::string::npos) << good.out;
  EXPECT_NE(good.out.find("report: "), std::string::npos) << good.out;
  // A second candidate waits until the first promotion is final.
  ASSERT_EQ(daemon_.call("POST", "/v1/shadows/try-ctl/release").status, 200);
  const auto bad = try_with(3);
  EXPECT_TRUE(bad.exited && bad.status == 1) << bad.describe();
  EXPECT_NE(bad.out.find("shadow try-ctl of ctl: failed"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("divergence"), std::string::npos) << bad.out;
  EXPECT_EQ(daemon_.partition("ctl").value("state", ""), "running");
  // A generator that fails stages nothing.
  const auto broken = testing::run_process({TILECTL_BINARY, "--socket", daemon_.socket(), "shadow", "try", "ctl", "--candidate",
                                            candidate, "--generator", "exit 3"});
  EXPECT_TRUE(broken.exited && broken.status == 1) << broken.describe();
  EXPECT_NE(broken.err.find("the generator 'exit 3' failed (status 3)"), std::string::npos) << broken.err;
}

TEST_F(TileShadowTest, ABadShadowRequestChangesNothing) {
  const auto applied = daemon_.apply(policy({controller("ctl", 2)}, nlohmann::json::array()));
  ASSERT_EQ(applied.status, 200) << applied.body;
  EXPECT_EQ(daemon_.call("GET", "/v1/shadows/nope").status, 404);
  EXPECT_EQ(daemon_.call("POST", "/v1/shadows/nope/promote").status, 404);
  EXPECT_EQ(daemon_.call("POST", "/v1/shadows/try", "{\"live\": 3}").status, 400);
  EXPECT_EQ(daemon_.call("POST", "/v1/shadows/try", "not json").status, 400);
  EXPECT_EQ(daemon_.call("POST", "/v1/shadows/try", R"({"live": "ghost", "candidate": "/bin/true"})").status, 404);
  const auto missing = daemon_.call("POST", "/v1/shadows/try", R"({"live": "ctl", "candidate": "/nonexistent/kernel.elf"})");
  EXPECT_EQ(missing.status, 422) << missing.body;
  // Not a kernel: staged, then refused by its VMM; the live partition is untouched.
  const auto garbage = daemon_.call("POST", "/v1/shadows/try", R"({"live": "ctl", "candidate": "/etc/hostname"})");
  EXPECT_EQ(garbage.status, 409) << garbage.body;
  EXPECT_EQ(daemon_.partition("ctl").value("state", ""), "running");
  EXPECT_EQ(daemon_.partition("ctl").value("restarts", 1), 0);
}

}  // namespace
}  // namespace tilehv
