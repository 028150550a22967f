// Tests for SensorPort save/restore: a port restored mid-stream (mid-line, with queued samples,
// replies and a changed rate) continues exactly the stream an uninterrupted port produces; a
// refused record leaves the port unchanged.
#include "sensors/sensor_port.hpp"

#include <gtest/gtest.h>

#include "unit/vdevices/sensors/port_reader.hpp"

namespace tilehv::vdevices::sensors {
namespace {

using testing::drain;
using testing::send;
using testing::synthetic_port;

constexpr std::uint64_t kS = 1'000'000'000;

// One step of a scripted session: advance, maybe send a command, read an awkward amount.
std::string step(SensorPort& port, int i) {
  EXPECT_TRUE(port.advance_to(static_cast<std::uint64_t>(i) * 700'000'000));
  if (i == 3) (void)send(port, "rate 0 ");  // a command split across the snapshot
  if (i == 4) (void)send(port, "10000\nrate 1 999999999\nrate 0 2");
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(i * 53 % 300 + 11));
  const std::size_t n = port.read(buf);
  return std::string(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
}

TEST(SensorPortState, RestoredPortContinuesTheExactStream) {
  for (const SensorKind kind : {SensorKind::thermal, SensorKind::piezo, SensorKind::mmwave, SensorKind::awg,
                                SensorKind::poe}) {
    auto uninterrupted = synthetic_port(kind, 11, PortOptions{40});
    std::string expected;
    for (int i = 0; i < 40; ++i) expected += step(*uninterrupted, i);
    expected += drain(*uninterrupted);

    auto first = synthetic_port(kind, 11, PortOptions{40});
    std::string got;
    for (int i = 0; i < 5; ++i) got += step(*first, i);
    const DeviceState state = first->save_state();
    // A different seed on purpose: the parameters travel with the state.
    auto second = synthetic_port(kind, 999, PortOptions{40});
    auto restored = second->restore_state(state);
    ASSERT_TRUE(restored) << restored.error().message;
    EXPECT_EQ(second->save_state().payload, state.payload);
    for (int i = 5; i < 40; ++i) got += step(*second, i);
    got += drain(*second);

    EXPECT_EQ(got, expected) << kind_name(kind);
    EXPECT_NE(expected.find("#ok rate 0 10000"), std::string::npos);
    if (kind == SensorKind::piezo) {
      EXPECT_NE(expected.find("#dropped"), std::string::npos);  // 1 kHz overflows the queue of 40
    }
  }
}

TEST(SensorPortState, RefusedRecordsLeaveThePortUnchanged) {
  auto port = synthetic_port(SensorKind::thermal, 1);
  ASSERT_TRUE(port->advance_to(3 * kS));
  (void)send(*port, "rate 0 ");
  const DeviceState good = port->save_state();

  auto refuse = [&](const DeviceState& state, const std::string& expected) {
    const DeviceState before = port->save_state();
    auto r = port->restore_state(state);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, expected);
    EXPECT_EQ(port->save_state().payload, before.payload);
  };
  DeviceState other_version = good;
  other_version.version = 2;
  refuse(other_version, "sensor-port state version 2 is not supported (1..1)");
  DeviceState other_kind = good;
  other_kind.kind = "uart16550";
  refuse(other_kind, "state of a 'uart16550' cannot restore a 'sensor-port'");
  DeviceState truncated = good;
  truncated.payload.erase(truncated.payload.end() - 3, truncated.payload.end());
  refuse(truncated, "sensor port: state payload truncated");
  DeviceState trailing = good;
  trailing.payload.push_back(0);
  refuse(trailing, "sensor port: sensor port state has trailing bytes");

  auto poe = synthetic_port(SensorKind::poe, 1);
  refuse(poe->save_state(), "sensor port: state of sensor 'poe0' (4 channels) cannot restore sensor 'thermal0' "
                            "(1 channels, kind thermal)");

  // A rate the destination's policy does not allow.
  auto fast = synthetic_port(SensorKind::thermal, 1);
  (void)send(*fast, "rate 0 10000\n");
  auto narrow_sensor = *Sensor::create(SensorSpec{"thermal0", SensorKind::thermal, 4});
  ASSERT_TRUE(narrow_sensor.restrict_rates(0, 100, 5'000));
  auto narrow = std::move(*SensorPort::create(std::move(*SyntheticSource::create(std::move(narrow_sensor), {}))));
  auto r = narrow->restore_state(fast->save_state());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "sensor port: saved rate of thermal0.temperature: 10000 mHz is above max_rate 5000 mHz");
}

TEST(SensorPortState, QueuedSamplesBeyondTheDestinationsQueueAreRefused) {
  auto big = synthetic_port(SensorKind::thermal, 1, PortOptions{100});
  ASSERT_TRUE(big->advance_to(50 * kS));
  auto small = synthetic_port(SensorKind::thermal, 1, PortOptions{10});
  auto r = small->restore_state(big->save_state());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "sensor port: 51 queued samples exceed this port's 10");
}

}  // namespace
}  // namespace tilehv::vdevices::sensors
