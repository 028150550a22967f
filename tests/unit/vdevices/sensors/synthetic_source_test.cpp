// Tests for SyntheticSource and its models: determinism by seed, independence from the pull pattern,
// exact timestamps, pinned output bits, and the shapes each kind promises.
#include "sensors/synthetic_source.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sensors/int_math.hpp"
#include "unit/vdevices/sensors/port_reader.hpp"

namespace tilehv::vdevices::sensors {
namespace {

using testing::drain;
using testing::samples_of;
using testing::synthetic_port;

constexpr std::uint64_t kS = 1'000'000'000;
constexpr SensorKind kKinds[] = {SensorKind::thermal, SensorKind::piezo, SensorKind::mmwave, SensorKind::awg,
                                 SensorKind::poe};

std::vector<Sample> pull(SensorKind kind, std::uint64_t seed, std::uint64_t until, SyntheticParams params = {},
                         std::uint32_t ports = 4) {
  params.seed = seed;
  auto source = *SyntheticSource::create(*Sensor::create(SensorSpec{"s0", kind, ports}), params);
  std::vector<Sample> out;
  while (*source->poll(until, 100'000, out) == 100'000) {
  }
  return out;
}

std::string stream(SensorKind kind, std::uint64_t seed, std::uint64_t until, std::uint64_t step) {
  auto port = synthetic_port(kind, seed, PortOptions{1 << 20});
  std::string out;
  for (std::uint64_t t = 0; t < until; t += step) {
    EXPECT_TRUE(port->advance_to(t));
    out += drain(*port, 777);
  }
  EXPECT_TRUE(port->advance_to(until));
  return out + drain(*port, 777);
}

TEST(SensorSynthetic, SameSeedGivesIdenticalBytesDifferentSeedDifferent) {
  for (const SensorKind kind : kKinds) {
    const std::string a = stream(kind, 42, 30 * kS, kS);
    EXPECT_GT(a.size(), 100u);
    EXPECT_EQ(a, stream(kind, 42, 30 * kS, kS)) << kind_name(kind);
    EXPECT_NE(a, stream(kind, 43, 30 * kS, kS)) << kind_name(kind);
  }
}

TEST(SensorSynthetic, StreamDoesNotDependOnHowItIsPulled) {
  for (const SensorKind kind : kKinds) {
    EXPECT_EQ(stream(kind, 7, 20 * kS, kS), stream(kind, 7, 20 * kS, 3 * kS + 1234567)) << kind_name(kind);
  }
}

// FNV-1a over the first samples of each kind for seed 1: the bits every host must produce. If a
// model changes on purpose, these change with it (and docs/sensors.md with them).
TEST(SensorSynthetic, OutputBitsArePinned) {
  const std::uint64_t expected[] = {0xab2306bc97474ed8, 0xf3de632cca465202, 0xeb811108c5c92245, 0xb8fa493bf479ab0b,
                                    0xd70b75b3b20d8775};
  for (std::size_t k = 0; k < std::size(kKinds); ++k) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const Sample& s : pull(kKinds[k], 1, 120 * kS)) {
      for (const std::uint64_t v : {std::uint64_t{s.channel}, s.seq, s.timestamp_ns, static_cast<std::uint64_t>(s.value_milli)}) {
        for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
      }
    }
    EXPECT_EQ(h, expected[k]) << kind_name(kKinds[k]);
  }
}

TEST(SensorSynthetic, TimestampsAdvanceByExactlyThePeriod) {
  const auto samples = pull(SensorKind::thermal, 1, 10 * kS);
  ASSERT_EQ(samples.size(), 11u);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    EXPECT_EQ(samples[i].timestamp_ns, i * kS);
    EXPECT_EQ(samples[i].seq, i);
  }
}

TEST(SensorSynthetic, NonIntegerPeriodsDoNotDrift) {
  auto source = *SyntheticSource::create(*Sensor::create(SensorSpec{"t", SensorKind::thermal, 4}), {});
  ASSERT_EQ(*source->set_rate(0, 3'000), 0u);  // nothing delivered yet: the new rate starts at 0
  std::vector<Sample> out;
  ASSERT_TRUE(source->poll(10 * kS, 1'000, out));
  ASSERT_EQ(out.size(), 31u);
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].timestamp_ns, i * 1'000'000'000'000 / 3'000);
  EXPECT_EQ(out[30].timestamp_ns, 10 * kS);
}

TEST(SensorSynthetic, RateChangeTakesEffectAfterTheLastSample) {
  auto source = *SyntheticSource::create(*Sensor::create(SensorSpec{"t", SensorKind::thermal, 4}), {});
  std::vector<Sample> out;
  ASSERT_TRUE(source->poll(5 * kS + 1, 1'000, out));  // samples at 0..5 s
  // Faster: one new period after the last sample (5.25 s), but not before time delivered (5 s + 1).
  EXPECT_EQ(*source->set_rate(0, 4'000), 5 * kS + 250'000'000);
  // Slower right away: no later than the old schedule's next sample.
  EXPECT_EQ(*source->set_rate(0, 100), 5 * kS + 250'000'000);
  EXPECT_FALSE(source->set_rate(0, 20'000));
  out.clear();
  ASSERT_TRUE(source->poll(30 * kS, 1'000, out));
  ASSERT_EQ(out.size(), 3u);  // 5.25 s, 15.25 s, 25.25 s
  EXPECT_EQ(out[1].timestamp_ns - out[0].timestamp_ns, 10 * kS);
}

TEST(SensorSynthetic, ValuesStayInTheChannelRange) {
  for (const SensorKind kind : kKinds) {
    const Sensor sensor = *Sensor::create(SensorSpec{"s0", kind, 4});
    for (const Sample& s : pull(kind, 5, 60 * kS)) {
      EXPECT_GE(s.value_milli, sensor.channel(s.channel).min_milli);
      EXPECT_LE(s.value_milli, sensor.channel(s.channel).max_milli);
    }
  }
}

TEST(SensorSynthetic, IntegerSineIsCloseToTheRealOne) {
  for (std::uint64_t phase = 0; phase < 1'000; ++phase) {
    const double exact = std::sin(2 * M_PI * static_cast<double>(phase) / 1'000.0) * 1e6;
    EXPECT_NEAR(static_cast<double>(sin_micro(phase, 1'000)), exact, 1'700.0) << phase;
  }
  EXPECT_EQ(sin_micro(250, 1'000), 1'000'000);
  EXPECT_EQ(sin_micro(750, 1'000), -1'000'000);
  EXPECT_EQ(sin_micro(1'250, 1'000), sin_micro(250, 1'000));
}

TEST(SensorSynthetic, ThermalFollowsADiurnalCurve) {
  // A one-hour day sampled every 10 s: warmest near 15:00, coolest near 03:00.
  const std::uint64_t day = 3'600 * kS;
  auto source = *SyntheticSource::create(*Sensor::create(SensorSpec{"t", SensorKind::thermal, 4}),
                                         SyntheticParams{9, day});
  ASSERT_TRUE(source->set_rate(0, 100));
  std::vector<Sample> out;
  ASSERT_TRUE(source->poll(day - 1, 1'000, out));
  const auto [lo, hi] = std::minmax_element(out.begin(), out.end(),
                                            [](const Sample& a, const Sample& b) { return a.value_milli < b.value_milli; });
  EXPECT_NEAR(static_cast<double>(hi->timestamp_ns) / static_cast<double>(day) * 24, 15.0, 1.0);
  EXPECT_NEAR(static_cast<double>(lo->timestamp_ns) / static_cast<double>(day) * 24, 3.0, 1.0);
  EXPECT_NEAR(static_cast<double>(hi->value_milli - lo->value_milli), 6'000.0, 200.0);  // 2 x 3 degC
}

TEST(SensorSynthetic, VibrationHasBurstsOnAQuietBackground) {
  std::size_t quiet = 0;
  std::size_t loud = 0;
  for (const Sample& s : pull(SensorKind::piezo, 3, 100 * kS)) {
    if (s.channel != 0) continue;
    if (std::abs(s.value_milli) <= 20) ++quiet;
    if (std::abs(s.value_milli) >= 400) ++loud;
  }
  EXPECT_GT(quiet, 50'000u);  // most of 100 s at 1 kHz is background
  EXPECT_GT(loud, 100u);      // and bursts happen
}

TEST(SensorSynthetic, PresenceComesAndGoesWithRangeAndVelocity) {
  std::size_t present = 0;
  std::size_t absent = 0;
  std::vector<Sample> samples = pull(SensorKind::mmwave, 4, 600 * kS);
  for (std::size_t i = 0; i + 2 < samples.size(); i += 3) {
    ASSERT_EQ(samples[i].channel, 0u);
    if (samples[i].value_milli == 1'000) {
      ++present;
      EXPECT_GT(samples[i + 1].value_milli, 400);  // a person is somewhere 0.5..8 m away
      EXPECT_LE(std::abs(samples[i + 2].value_milli), 10'000);
    } else {
      ++absent;
      EXPECT_EQ(samples[i + 1].value_milli, 0);
      EXPECT_EQ(samples[i + 2].value_milli, 0);
    }
  }
  EXPECT_GT(present, 100u);
  EXPECT_GT(absent, 100u);
}

TEST(SensorSynthetic, WaterFlowCyclesBetweenHarvestAndDefrost) {
  std::size_t zero = 0;
  std::size_t flowing = 0;
  for (const Sample& s : pull(SensorKind::awg, 6, 2'400 * kS)) {
    if (s.channel == 1) {
      EXPECT_GT(s.value_milli, 30'000);
      EXPECT_LT(s.value_milli, 80'000);
    } else if (s.value_milli == 0) {
      ++zero;
    } else if (s.value_milli > 4'000) {
      ++flowing;
    }
  }
  EXPECT_NEAR(static_cast<double>(zero), 600.0, 20.0);  // 2 cycles x 5 min defrost at 1 Hz
  EXPECT_GT(flowing, 1'500u);
}

TEST(SensorSynthetic, PoePowerStepsBetweenLoadLevels) {
  std::vector<std::int64_t> port_values[8];
  for (const Sample& s : pull(SensorKind::poe, 8, 600 * kS, {}, 8)) port_values[s.channel].push_back(s.value_milli);
  std::size_t stepping = 0;
  for (const auto& values : port_values) {
    ASSERT_EQ(values.size(), 601u);
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    if (*hi - *lo > 1'000) ++stepping;  // a load step of more than 1 W
  }
  EXPECT_GT(stepping, 2u);
}

}  // namespace
}  // namespace tilehv::vdevices::sensors
