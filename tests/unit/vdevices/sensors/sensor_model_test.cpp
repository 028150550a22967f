// Tests for sensor_model.hpp: the channel set of every kind, names, and rate bounds.
#include "sensors/sensor_model.hpp"

#include <gtest/gtest.h>

namespace tilehv::vdevices::sensors {
namespace {

Sensor make(SensorKind kind, std::uint32_t ports = 4) { return *Sensor::create(SensorSpec{"s0", kind, ports}); }

std::vector<std::string> names(const Sensor& s) {
  std::vector<std::string> out;
  for (const Channel& c : s.channels()) out.push_back(c.name + ":" + c.unit);
  return out;
}

TEST(SensorModel, ChannelSetsPerKind) {
  using V = std::vector<std::string>;
  EXPECT_EQ(names(make(SensorKind::thermal)), (V{"temperature:degC"}));
  EXPECT_EQ(names(make(SensorKind::piezo)), (V{"vibration:m/s^2", "strain:ue"}));
  EXPECT_EQ(names(make(SensorKind::mmwave)), (V{"presence:bool", "range:m", "velocity:m/s"}));
  EXPECT_EQ(names(make(SensorKind::awg)), (V{"water_flow:mL/min", "humidity:%RH"}));
  EXPECT_EQ(names(make(SensorKind::poe, 3)), (V{"port0:W", "port1:W", "port2:W"}));
  // Vibration is the high-rate channel.
  EXPECT_EQ(make(SensorKind::piezo).channel(0).rate_mhz, 1'000'000u);
}

TEST(SensorModel, RefusesBadNamesAndPortCounts) {
  EXPECT_FALSE(Sensor::create(SensorSpec{"Thermal", SensorKind::thermal, 4}));
  EXPECT_FALSE(Sensor::create(SensorSpec{"", SensorKind::thermal, 4}));
  EXPECT_FALSE(Sensor::create(SensorSpec{"a/b", SensorKind::thermal, 4}));
  EXPECT_FALSE(Sensor::create(SensorSpec{std::string(33, 'a'), SensorKind::thermal, 4}));
  EXPECT_FALSE(Sensor::create(SensorSpec{"poe0", SensorKind::poe, 0}));
  auto too_many = Sensor::create(SensorSpec{"poe0", SensorKind::poe, 17});
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().message, "PoE sensor 'poe0' has 17 ports; 1 to 16 are supported");
}

TEST(SensorModel, KindNamesRoundTrip) {
  for (auto kind : {SensorKind::thermal, SensorKind::piezo, SensorKind::mmwave, SensorKind::awg, SensorKind::poe}) {
    EXPECT_EQ(parse_kind(kind_name(kind)), kind);
  }
  EXPECT_FALSE(parse_kind("lidar"));
}

TEST(SensorModel, RateChecksNameTheBound) {
  Sensor s = make(SensorKind::thermal);
  EXPECT_TRUE(s.check_rate(0, 100));
  EXPECT_TRUE(s.check_rate(0, 10'000));
  EXPECT_EQ(s.check_rate(0, 99).error().message, "99 mHz is below min_rate 100 mHz");
  EXPECT_EQ(s.check_rate(0, 10'001).error().message, "10001 mHz is above max_rate 10000 mHz");
  EXPECT_EQ(s.check_rate(1, 1'000).error().kind, ErrorKind::refused);
}

TEST(SensorModel, PolicyNarrowsButNeverWidensDeviceBounds) {
  Sensor s = make(SensorKind::thermal);
  ASSERT_TRUE(s.restrict_rates(0, 2'000, 5'000));
  EXPECT_EQ(s.channel(0).rate_mhz, 2'000u);  // clamped into the new bounds
  EXPECT_FALSE(s.check_rate(0, 1'000));
  EXPECT_TRUE(s.check_rate(0, 5'000));
  EXPECT_FALSE(s.restrict_rates(0, 50, 5'000));       // below the device
  EXPECT_FALSE(s.restrict_rates(0, 1'000, 20'000));   // above the device
  EXPECT_FALSE(s.restrict_rates(0, 5'000, 1'000));    // inverted
  EXPECT_TRUE(s.restrict_rates(0, 100, 10'000));      // back to the device's own bounds
}

}  // namespace
}  // namespace tilehv::vdevices::sensors
