// Tests for the rate bounds a partition's policy gives its sensor streams: the plane narrows each
// channel's bounds for that partition's link only, announces them in the stream's header, and
// refuses a rate request outside them; a neighbour on the same shared sensor keeps the device's.
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "ioplane/io_plane.hpp"
#include "port/plane_client.hpp"

namespace tilehv::ioplane {
namespace {

using namespace std::chrono_literals;
using vdevices::port::PlaneClient;
using vdevices::port::PortEndpoint;
using vdevices::port::PortSide;

PlaneConfig shared_thermal() {
  PlaneConfig config;
  PlaneSensor sensor;
  sensor.spec = {"wall", vdevices::sensors::SensorKind::thermal, 4};
  sensor.shared = true;
  config.sensors.push_back(sensor);
  return config;
}

struct Reader {
  std::unique_ptr<PlaneClient> client;
  std::optional<PortEndpoint> device;

  // Stream text until `needle` shows up (or 2 s pass).
  std::string read_until(const std::string& needle) {
    std::string text;
    std::vector<std::uint8_t> out(device->max_message());
    const auto end = std::chrono::steady_clock::now() + 2s;
    while (text.find(needle) == std::string::npos && std::chrono::steady_clock::now() < end) {
      auto got = device->receive(out);
      if (got && got->has_value()) {
        text.append(out.begin(), out.begin() + **got);
      } else {
        std::this_thread::sleep_for(1ms);
      }
    }
    return text;
  }
  void write(const std::string& line) {
    ASSERT_EQ(*device->send({reinterpret_cast<const std::uint8_t*>(line.data()), line.size()}), vdevices::port::PushResult::kPushed);
  }
};

Reader open_sensor(IoPlane& plane, SensorRateBounds rates) {
  Reader r;
  auto link = plane.open_link({"console:sensor.wall"}, std::move(rates));
  EXPECT_TRUE(link);
  r.client = std::make_unique<PlaneClient>(std::move(*link));
  auto grant = r.client->request({"console", "sensor.wall"}, 5s);
  EXPECT_TRUE(grant) << (grant ? "" : grant.error());
  auto endpoint = PortEndpoint::attach(std::move(grant->fds), PortSide::kDevice);
  EXPECT_TRUE(endpoint);
  r.device.emplace(std::move(*endpoint));
  return r;
}

TEST(IoPlaneSensorBoundsTest, APartitionsPolicyNarrowsItsOwnStreamOnly) {
  auto plane = IoPlane::create(shared_thermal());
  ASSERT_TRUE(plane);
  Reader narrowed = open_sensor(**plane, {{"sensor.wall", {500, 2000}}});
  Reader neighbour = open_sensor(**plane, {});
  const std::string header = narrowed.read_until("#channel 0");
  const std::string line = header.substr(header.find("#channel 0"));
  EXPECT_NE(line.find("min_rate=500 max_rate=2000"), std::string::npos) << header;
  const std::string other = neighbour.read_until("#channel 0");
  EXPECT_EQ(other.find("min_rate=500 max_rate=2000"), std::string::npos) << other;

  narrowed.write("rate 0 5000\n");
  EXPECT_NE(narrowed.read_until("#error rate").find("above max_rate 2000"), std::string::npos);
  narrowed.write("rate 0 1000\n");
  EXPECT_NE(narrowed.read_until("#ok rate 0 1000").find("#ok rate 0 1000"), std::string::npos);
  neighbour.write("rate 0 5000\n");
  EXPECT_NE(neighbour.read_until("#ok rate 0 5000").find("#ok rate 0 5000"), std::string::npos);
}

TEST(IoPlaneSensorBoundsTest, BoundsTheDeviceCannotMeetRefuseThePort) {
  auto plane = IoPlane::create(shared_thermal());
  ASSERT_TRUE(plane);
  auto link = (*plane)->open_link({"console:sensor.wall"}, {{"sensor.wall", {1, 100'000'000}}});
  ASSERT_TRUE(link);
  PlaneClient client(std::move(*link));
  auto grant = client.request({"console", "sensor.wall"}, 5s);
  ASSERT_FALSE(grant);
  EXPECT_NE(grant.error().find("rate bounds of sensor wall"), std::string::npos) << grant.error();
}

}  // namespace
}  // namespace tilehv::ioplane
