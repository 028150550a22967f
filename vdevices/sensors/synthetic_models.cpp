// Synthetic models: each kind's channels as pure functions of (seed, channel, virtual time). Integer
// math only, so every host produces the same bits.
#include "sensors/synthetic_models.hpp"

#include <algorithm>

#include "sensors/int_math.hpp"
#include "sensors/prng.hpp"

namespace tilehv::vdevices::sensors {
namespace {

constexpr std::uint64_t kMs = 1'000'000;
constexpr std::uint64_t kS = 1'000'000'000;
constexpr std::int64_t kMicro = 1'000'000;  // sin_micro's full scale

// Draw streams: one per independent quantity, so no two quantities share random numbers.
enum Stream : std::uint64_t {
  kThermalOffset = 1,
  kThermalNoise,
  kBurstSlot,
  kVibrationNoise,
  kStrainOffset,
  kStrainNoise,
  kPresenceSlot,
  kRangeNoise,
  kVelocityNoise,
  kHumidityOffset,
  kHumidityNoise,
  kFlowPhase,
  kFlowNoise,
  kPoeClass,
  kPoeLevel,
  kPoeNoise,
};

// sin of the time of day, peaking at 15:00 and lowest at 03:00 (virtual t = 0 is midnight).
std::int64_t diurnal_micro(std::uint64_t t, std::uint64_t day) {
  return sin_micro(t % day + day / 24 * 15, day);
}

std::int64_t noise(const SyntheticParams& p, std::uint64_t stream, std::uint64_t t, std::int64_t amplitude) {
  return triangular(draw(p.seed, stream, t), amplitude);
}

// Thermal: a diurnal curve around a per-seed mean, plus sensor noise.
std::int64_t temperature(const SyntheticParams& p, std::uint64_t t) {
  const std::int64_t mean = 22'000 + uniform(draw(p.seed, kThermalOffset, 0), -1'000, 1'000);
  return mean + 3'000 * diurnal_micro(t, p.day_ns) / kMicro + noise(p, kThermalNoise, t, 50);
}

// Vibration bursts: every 10 s slot holds a burst with probability 30%, starting within the slot's
// first 8 s, lasting 0.2..2 s, with a 20 ms attack then a linear decay, a 0.5..5 m/s^2 peak and a
// 20..120 Hz tone. Returns the burst's contribution at t (0 outside bursts).
std::int64_t burst(const SyntheticParams& p, std::uint64_t t) {
  constexpr std::uint64_t kSlot = 10 * kS;
  constexpr std::uint64_t kAttack = 20 * kMs;
  const std::uint64_t slot = t / kSlot;
  auto d = [&](std::uint64_t k) { return draw(p.seed, kBurstSlot, slot * 8 + k); };
  if (uniform(d(0), 0, 99) >= 30) return 0;
  const std::uint64_t start = slot * kSlot + static_cast<std::uint64_t>(uniform(d(1), 0, 8'000)) * kMs;
  const std::uint64_t duration = static_cast<std::uint64_t>(uniform(d(2), 200, 2'000)) * kMs;
  if (t < start || t - start >= duration) return 0;
  const std::int64_t peak = uniform(d(3), 500, 5'000);
  const auto hz = static_cast<std::uint64_t>(uniform(d(4), 20, 120));
  const std::uint64_t dt = t - start;
  const std::int64_t envelope = dt < kAttack
                                    ? mul_div(static_cast<std::int64_t>(dt), kMicro, kAttack)
                                    : mul_div(static_cast<std::int64_t>(duration - dt), kMicro,
                                              static_cast<std::int64_t>(duration - kAttack));
  const std::int64_t wave = sin_micro(dt * hz, kS);
  return peak * envelope / kMicro * wave / kMicro;
}

std::int64_t vibration(const SyntheticParams& p, std::uint64_t t) {
  return burst(p, t) + noise(p, kVibrationNoise, t, 20);
}

// Strain: thermal expansion following the diurnal curve (80 ue) around a per-seed prestrain, plus
// 2 ue per m/s^2 of burst, plus noise.
std::int64_t strain(const SyntheticParams& p, std::uint64_t t) {
  const std::int64_t prestrain = uniform(draw(p.seed, kStrainOffset, 0), -50'000, 50'000);
  return prestrain + 80'000 * diurnal_micro(t, p.day_ns) / kMicro + 2 * burst(p, t) +
         noise(p, kStrainNoise, t, 500);
}

// Presence: every 60 s slot holds a visit with probability 40%, starting within its first 30 s and
// lasting 5..30 s, walking in a straight line from range r0 to r1 (0.5..8 m) at constant speed.
struct Visit {
  bool present = false;
  std::int64_t range_mm = 0;
  std::int64_t velocity_mm_s = 0;  // positive: moving away
};

Visit visit(const SyntheticParams& p, std::uint64_t t) {
  constexpr std::uint64_t kSlot = 60 * kS;
  const std::uint64_t slot = t / kSlot;
  auto d = [&](std::uint64_t k) { return draw(p.seed, kPresenceSlot, slot * 8 + k); };
  if (uniform(d(0), 0, 99) >= 40) return {};
  const std::uint64_t start = slot * kSlot + static_cast<std::uint64_t>(uniform(d(1), 0, 30'000)) * kMs;
  const std::uint64_t duration = static_cast<std::uint64_t>(uniform(d(2), 5'000, 30'000)) * kMs;
  if (t < start || t - start >= duration) return {};
  const std::int64_t r0 = uniform(d(3), 500, 8'000);
  const std::int64_t r1 = uniform(d(4), 500, 8'000);
  const auto dt = static_cast<std::int64_t>(t - start);
  const auto span = static_cast<std::int64_t>(duration);
  return Visit{true, r0 + mul_div(r1 - r0, dt, span), mul_div(r1 - r0, static_cast<std::int64_t>(kS), span)};
}

std::int64_t mmwave(const SyntheticParams& p, std::uint32_t channel, std::uint64_t t) {
  const Visit v = visit(p, t);
  if (!v.present) return 0;
  switch (channel) {
    case 0: return 1'000;
    case 1: return v.range_mm + noise(p, kRangeNoise, t, 20);
    default: return v.velocity_mm_s + noise(p, kVelocityNoise, t, 30);
  }
}

// Humidity: opposite to temperature over the day (12 %RH swing) around a per-seed 52..58 %RH.
std::int64_t humidity_clean(const SyntheticParams& p, std::uint64_t t) {
  const std::int64_t mean = 55'000 + uniform(draw(p.seed, kHumidityOffset, 0), -3'000, 3'000);
  return mean - 12'000 * diurnal_micro(t, p.day_ns) / kMicro;
}

// Water flow: 20 min cycles at a per-seed phase, 15 min harvesting then 5 min defrost at zero. While
// harvesting the flow ramps up over 60 s to 6 mL/min scaled by humidity / 55 %RH.
std::int64_t water_flow(const SyntheticParams& p, std::uint64_t t) {
  constexpr std::uint64_t kCycle = 1'200 * kS;
  constexpr std::uint64_t kHarvest = 900 * kS;
  constexpr std::uint64_t kRamp = 60 * kS;
  const auto phase = static_cast<std::uint64_t>(uniform(draw(p.seed, kFlowPhase, 0), 0, 1'199)) * kS;
  const std::uint64_t position = (t % kCycle + phase) % kCycle;
  if (position >= kHarvest) return 0;
  const std::int64_t full = mul_div(6'000, humidity_clean(p, t), 55'000);
  const std::int64_t flow = mul_div(full, static_cast<std::int64_t>(std::min(position, kRamp)), kRamp);
  return std::max<std::int64_t>(0, flow + noise(p, kFlowNoise, t, 150));
}

// PoE: each port's powered device has a per-seed class (empty, or 3.84, 6.49, 12.95, 25.5, 51 W at
// most); every 30 s its load steps to 30%, 60% or 100% of that (40/40/20 %), plus 50 mW of noise.
std::int64_t poe_power(const SyntheticParams& p, std::uint32_t port, std::uint64_t t) {
  constexpr std::int64_t kClassMax[] = {0, 3'840, 6'490, 12'950, 25'500, 51'000};
  constexpr std::uint64_t kSlot = 30 * kS;
  const std::int64_t max = kClassMax[uniform(draw(p.seed, kPoeClass, port), 0, 5)];
  if (max == 0) return 0;
  const std::int64_t pick = uniform(draw(p.seed, kPoeLevel + (std::uint64_t{port} << 32), t / kSlot), 0, 99);
  const std::int64_t percent = pick < 40 ? 30 : pick < 80 ? 60 : 100;
  const std::int64_t noisy = max * percent / 100 + noise(p, kPoeNoise + (std::uint64_t{port} << 32), t, 50);
  return std::max<std::int64_t>(0, noisy);
}

}  // namespace

std::int64_t synthetic_value(SensorKind kind, std::uint32_t channel, std::uint64_t t,
                             const SyntheticParams& params) noexcept {
  switch (kind) {
    case SensorKind::thermal: return temperature(params, t);
    case SensorKind::piezo: return channel == 0 ? vibration(params, t) : strain(params, t);
    case SensorKind::mmwave: return mmwave(params, channel, t);
    case SensorKind::awg:
      return channel == 0 ? water_flow(params, t)
                          : humidity_clean(params, t) + noise(params, kHumidityNoise, t, 300);
    case SensorKind::poe: return poe_power(params, channel, t);
  }
  return 0;
}

}  // namespace tilehv::vdevices::sensors
