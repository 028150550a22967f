// Tests for IIO discovery, reading and IioSource, against a fake sysfs tree of real files in a
// temporary directory.
#include "sensors/iio_source.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "unit/vdevices/sensors/port_reader.hpp"

namespace tilehv::vdevices::sensors {
namespace {

namespace fs = std::filesystem;
using testing::drain;
using testing::lines_of;
using testing::samples_of;

constexpr std::uint64_t kS = 1'000'000'000;

class SensorIio : public ::testing::Test {
 protected:
  SensorIio() : root_(fs::temp_directory_path() / ("tilehv-iio-" + std::to_string(::getpid()) + "-" + test_name())) {
    fs::remove_all(root_);
    put("iio:device0/name", "lm75");
    put("iio:device0/in_temp_input", "23500");
    // A humidity and temperature chip reporting raw codes with scale and offset.
    put("iio:device1/name", "hdc1080");
    put("iio:device1/in_humidityrelative_raw", "32768");
    put("iio:device1/in_humidityrelative_scale", "1.525878906");
    put("iio:device1/in_temp_raw", "5000");
    put("iio:device1/in_temp_offset", "500.5");
    put("iio:device1/in_temp_scale", "4.25");
    put("iio:device1/in_temp_thresh_rising_value", "90000");  // an event attribute, not a channel
    // An accelerometer with one scale shared by its axes; device 10 sorts after device 2.
    put("iio:device10/name", "adxl345");
    put("iio:device10/in_accel_x_raw", "10");
    put("iio:device10/in_accel_z_raw", "-256");
    put("iio:device10/in_accel_scale", "0.038300");
    put("iio:device10/in_accel_x_mean_raw", "3");  // an average, not an instantaneous value
    put("iio:device2/name", "ina226");
    put("iio:device2/in_power0_raw", "400");
    put("iio:device2/in_power0_scale", "25");
    put("iio:device2/in_power1_input", "2500.5");
    put("trigger0/name", "not a device");
  }
  ~SensorIio() override { fs::remove_all(root_); }

  static std::string test_name() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

  void put(const std::string& file, const std::string& value) {
    fs::create_directories((root_ / file).parent_path());
    std::ofstream(root_ / file) << value << "\n";
  }

  static Sensor sensor(SensorKind kind, std::uint32_t ports = 4) {
    return *Sensor::create(SensorSpec{std::string(kind_name(kind)) + "0", kind, ports});
  }

  fs::path root_;
};

TEST_F(SensorIio, DiscoversSupportedChannelsInOrder) {
  auto found = discover_iio(root_);
  ASSERT_TRUE(found) << found.error().message;
  std::vector<std::string> seen;
  for (const IioChannelInfo& c : *found) {
    seen.push_back(c.device + "/" + c.device_name + "/" + c.prefix + (c.has_input ? "/input" : "") +
                   (c.has_raw ? "/raw" : ""));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "iio:device0/lm75/in_temp/input",
                      "iio:device1/hdc1080/in_humidityrelative/raw",
                      "iio:device1/hdc1080/in_temp/raw",
                      "iio:device2/ina226/in_power0/raw",
                      "iio:device2/ina226/in_power1/input",
                      "iio:device10/adxl345/in_accel_x/raw",
                      "iio:device10/adxl345/in_accel_z/raw",
                  }));
}

TEST_F(SensorIio, ConvertsToChannelMilliUnits) {
  auto found = *discover_iio(root_);
  std::vector<std::int64_t> values;
  for (const IioChannelInfo& c : found) {
    auto v = read_iio_milli(root_, c);
    ASSERT_TRUE(v) << v.error().message;
    values.push_back(*v);
  }
  // 23.5 degC; 32768 * 1.525878906 = 49999.99 milli %RH; (5000 + 500.5) * 4.25 = 23377.125 milli degC;
  // 400 * 25 mW; 2500.5 mW rounded away from zero; 10 * 0.0383 and -256 * 0.0383 m/s^2 in milli.
  EXPECT_EQ(values, (std::vector<std::int64_t>{23'500, 50'000, 23'377, 10'000, 2'501, 383, -9'805}));
}

TEST_F(SensorIio, ThermalSensorSamplesTheHostOnTheVirtualClock) {
  auto source = IioSource::create(sensor(SensorKind::thermal), root_);
  ASSERT_TRUE(source) << source.error().message;
  EXPECT_EQ((*source)->bindings()[0].device_name, "lm75");
  auto port = std::move(*SensorPort::create(std::move(*source)));
  ASSERT_TRUE(port->advance_to(2 * kS));
  put("iio:device0/in_temp_input", "-1250");
  ASSERT_TRUE(port->advance_to(3 * kS));
  const std::string stream = drain(*port);
  EXPECT_EQ(lines_of(stream)[0], "#tilehv-sensor v1 name=thermal0 kind=thermal source=iio channels=1");
  EXPECT_EQ(samples_of(stream), (std::vector<Sample>{{0, 0, 0, 23'500}, {0, 1, kS, 23'500}, {0, 2, 2 * kS, 23'500},
                                                     {0, 3, 3 * kS, -1'250}}));
}

TEST_F(SensorIio, PoePortsTakeThePowerChannelsInOrder) {
  auto source = IioSource::create(sensor(SensorKind::poe, 2), root_);
  ASSERT_TRUE(source) << source.error().message;
  std::vector<Sample> out;
  ASSERT_TRUE((*source)->poll(0, 10, out));
  EXPECT_EQ(out, (std::vector<Sample>{{0, 0, 0, 10'000}, {1, 1, 0, 2'501}}));
}

TEST_F(SensorIio, AbsentChannelsAreClearErrors) {
  auto three_ports = IioSource::create(sensor(SensorKind::poe, 3), root_);
  ASSERT_FALSE(three_ports);
  EXPECT_EQ(three_ports.error().kind, ErrorKind::not_found);
  EXPECT_EQ(three_ports.error().message, "no IIO channel for poe0.port2 under " + root_.string() +
                                             ": looked for in_power*_input or in_power*_raw in every iio:deviceN");
  auto piezo = IioSource::create(sensor(SensorKind::piezo), root_);
  ASSERT_FALSE(piezo);
  EXPECT_EQ(piezo.error().message, "piezo0.strain (ue) has no IIO counterpart: the IIO ABI defines no such quantity");
  auto missing = IioSource::create(sensor(SensorKind::thermal), root_ / "nothing");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::not_found);
  EXPECT_EQ(missing.error().message, "no IIO devices: " + (root_ / "nothing").string() +
                                         " is not a directory (is the industrialio module loaded?)");
}

TEST_F(SensorIio, KindsWithoutAnIioQuantityAreRefusedByName) {
  auto awg = IioSource::create(sensor(SensorKind::awg), root_);
  ASSERT_FALSE(awg);
  EXPECT_EQ(awg.error().message, "awg0.water_flow (mL/min) has no IIO counterpart: the IIO ABI defines no such quantity");
  auto mmwave = IioSource::create(sensor(SensorKind::mmwave), root_);
  ASSERT_FALSE(mmwave);
  EXPECT_EQ(mmwave.error().message, "mmwave0.presence (bool) has no IIO counterpart: the IIO ABI defines no such quantity");
}

TEST_F(SensorIio, AFailedReadIsReportedOnceAndConsumesNothing) {
  auto port = std::move(*SensorPort::create(std::move(*IioSource::create(sensor(SensorKind::thermal), root_))));
  ASSERT_TRUE(port->advance_to(0));
  put("iio:device0/in_temp_input", "hot");
  auto failed = port->advance_to(kS);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message, (root_ / "iio:device0/in_temp_input").string() +
                                        ": expected a decimal number, found \"hot\"");
  EXPECT_FALSE(port->advance_to(2 * kS));  // same fault: no second line
  put("iio:device0/in_temp_input", "20000");
  ASSERT_TRUE(port->advance_to(2 * kS));
  const std::vector<std::string> lines = lines_of(drain(*port));
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[2], "#fault " + failed.error().message);
  EXPECT_EQ(lines[3], "0 0 0 23500");
  EXPECT_EQ(lines[4], "1 1000000000 0 20000");  // the failed poll lost nothing
  EXPECT_EQ(lines[5], "2 2000000000 0 20000");
}

}  // namespace
}  // namespace tilehv::vdevices::sensors
