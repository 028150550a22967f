// Integration tests for the tile's sensors: the I/O plane (hosted by the test process) serves each
// sensor's stream on a named console port, and real tilehv partitions read them.
#include <future>

#include <fmt/format.h>

#include <gtest/gtest.h>

#include "ioplane/io_plane.hpp"
#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace tilehv {
namespace {

namespace sensors = vdevices::sensors;

ioplane::PlaneSensor synthetic(const std::string& name, sensors::SensorKind kind, std::uint64_t seed = 1) {
  ioplane::PlaneSensor s;
  s.spec = sensors::SensorSpec{name, kind, 4};
  s.seed = seed;
  return s;
}

class SensorsTest : public ::testing::Test {
 protected:
  void start_plane(std::vector<ioplane::PlaneSensor> sensor_list) {
    ioplane::PlaneConfig config;
    config.sensors = std::move(sensor_list);
    auto plane = ioplane::IoPlane::create(std::move(config));
    ASSERT_TRUE(plane) << plane.error();
    plane_ = std::move(*plane);
    ASSERT_TRUE(plane_->listen(socket_path()));
  }
  std::string socket_path() const { return (dir_.path() / "plane.sock").string(); }
  std::vector<std::string> partition(const std::string& kernel, std::vector<std::string> ports, const std::string& cmdline) {
    std::vector<std::string> argv = {TILEHV_BINARY, "run", "--kernel", testing::guest_kernel(kernel), "--plane",
                                     socket_path(), "--cmdline", cmdline, "--timeout", "30"};
    for (const auto& p : ports) argv.insert(argv.end(), {"--console-port", p});
    return argv;
  }

  testing::TempDir dir_;
  std::unique_ptr<ioplane::IoPlane> plane_;
};

TEST_F(SensorsTest, NamedPortsAreAnnouncedToTheGuest) {
  TILEHV_REQUIRE_KVM();
  start_plane({synthetic("thermal0", sensors::SensorKind::thermal), synthetic("poe0", sensors::SensorKind::poe)});
  const auto r = testing::run_process(partition("console-ports", {"sensor.thermal0", "sensor.poe0"}, "timeout=1"),
                                      testing::with_limit(std::chrono::seconds(60)));
  EXPECT_NE(r.out.find("console-ports: port 0 name=console (console)"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("console-ports: port 1 name=sensor.thermal0"), std::string::npos) << r.describe();
  EXPECT_NE(r.out.find("console-ports: port 2 name=sensor.poe0"), std::string::npos) << r.describe();
}

TEST_F(SensorsTest, UnknownSensorPortIsRefused) {
  TILEHV_REQUIRE_KVM();
  start_plane({synthetic("thermal0", sensors::SensorKind::thermal)});
  const auto r = testing::run_process(partition("console-ports", {"sensor.nosuch"}, ""), testing::with_limit(std::chrono::seconds(30)));
  ASSERT_TRUE(r.exited) << r.describe();
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("refused console port sensor.nosuch: no such console port"), std::string::npos) << r.describe();
}

std::string digest_of(const testing::ProcessResult& r, const std::string& sensor) {
  const std::string key = "sensor-logger: " + sensor + " digest ";
  const auto at = r.out.find(key);
  return at == std::string::npos ? std::string() : r.out.substr(at + key.size(), 16);
}

std::uint64_t fnv1a64(const std::string& bytes, std::uint64_t hash = 0xcbf29ce484222325ULL) {
  for (unsigned char c : bytes) hash = (hash ^ c) * 0x100000001b3ULL;
  return hash;
}

TEST_F(SensorsTest, SameSeedGivesIdenticalSamplesAndAnotherSeedDoesNot) {
  TILEHV_REQUIRE_KVM();
  const auto run = [&](std::uint64_t seed) {
    // Piezo's default rates (1 kHz vibration, 10 Hz strain) give 20 strain samples in 2 s of virtual time,
    // which the plane paces in real time; the stream's content depends on the seed only.
    start_plane({synthetic("piezo0", sensors::SensorKind::piezo, seed)});
    auto r = testing::run_process(partition("sensor-logger", {"sensor.piezo0"}, "samples=20"),
                                  testing::with_limit(std::chrono::seconds(60)));
    plane_.reset();
    return r;
  };
  const auto a = run(7);
  const auto b = run(7);
  const auto c = run(8);
  ASSERT_TRUE(a.exited && a.status == 0) << a.describe();
  ASSERT_TRUE(b.exited && b.status == 0) << b.describe();
  ASSERT_TRUE(c.exited && c.status == 0) << c.describe();
  EXPECT_NE(a.out.find("sensor-logger: done, 1 sensors, 2 channels"), std::string::npos) << a.describe();
  ASSERT_FALSE(digest_of(a, "piezo0").empty()) << a.describe();
  EXPECT_EQ(digest_of(a, "piezo0"), digest_of(b, "piezo0"));
  EXPECT_NE(digest_of(a, "piezo0"), digest_of(c, "piezo0"));
}

TEST_F(SensorsTest, ReplayedTraceArrivesBitExact) {
  TILEHV_REQUIRE_KVM();
  // A thermal trace of 30 records, 100 ms apart; the guest must see exactly these samples.
  std::string trace = "tilehv-sensor-trace,1,thermal0,thermal\ntimestamp_ns,channel,value\n";
  std::uint64_t digest = 0xcbf29ce484222325ULL;
  for (int i = 0; i < 30; ++i) {
    const std::int64_t milli = 20000 + (i * 37 % 900) - 450;
    trace += fmt::format("{},temperature,{}.{:03}\n", i * 100'000'000LL, milli / 1000, milli % 1000);
    digest = fnv1a64(fmt::format("{} {} 0 {}\n", i, i * 100'000'000LL, milli), digest);
  }
  const auto path = dir_.write("thermal0.csv", trace);
  ioplane::PlaneSensor replay;
  replay.spec = sensors::SensorSpec{"thermal0", sensors::SensorKind::thermal, 4};
  replay.trace = path;
  start_plane({replay});
  const auto r = testing::run_process(partition("sensor-logger", {"sensor.thermal0"}, "samples=30"),
                                      testing::with_limit(std::chrono::seconds(60)));
  ASSERT_TRUE(r.exited && r.status == 0) << r.describe();
  EXPECT_EQ(digest_of(r, "thermal0"), fmt::format("{:016x}", digest)) << r.describe();
  EXPECT_NE(r.out.find("n 30 min"), std::string::npos) << r.describe();
}

TEST_F(SensorsTest, RateRequestsWithinBoundsAreAcceptedAndOthersRefused) {
  TILEHV_REQUIRE_KVM();
  start_plane({synthetic("thermal0", sensors::SensorKind::thermal)});
  const auto ok = testing::run_process(partition("sensor-logger", {"sensor.thermal0"}, "samples=10 rate=thermal0:temperature:5000"),
                                       testing::with_limit(std::chrono::seconds(60)));
  ASSERT_TRUE(ok.exited && ok.status == 0) << ok.describe();
  EXPECT_NE(ok.out.find("sensor-logger: thermal0.temperature: rate 5000 mHz from"), std::string::npos) << ok.describe();
  plane_.reset();
  start_plane({synthetic("thermal0", sensors::SensorKind::thermal)});
  const auto refused = testing::run_process(
      partition("sensor-logger", {"sensor.thermal0"}, "samples=2 rate=thermal0:temperature:99999999"),
      testing::with_limit(std::chrono::seconds(60)));
  EXPECT_NE(refused.out.find("mHz refused"), std::string::npos) << refused.describe();
}

}  // namespace
}  // namespace tilehv
