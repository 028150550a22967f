// Integration tests for the tile's sensors: the I/O plane (hosted by the test process) serves each
// sensor's stream on a named console port, and real tilehv partitions read them.
#include <future>

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

}  // namespace
}  // namespace tilehv
