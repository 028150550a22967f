// Time: the TSC as a nanosecond clock, busy-wait delays and deadlines.
#include <guest/time.hpp>

#include <guest/cpu.hpp>
#include <guest/pit.hpp>

namespace guest::time {
namespace {

constexpr uint32_t hypervisor_base_leaf = 0x40000000;
constexpr uint32_t hypervisor_timing_leaf = 0x40000010;

// Written once by the boot CPU in init(), before any other CPU runs; read-only afterwards.
struct Calibration {
  uint64_t khz = 0;
  TscSource source = TscSource::pit;
  uint64_t boot_tsc = 0;
  uint64_t ns_per_tick_q32 = 0;  // ns per tick, 32.32 fixed point
  uint64_t ticks_per_ns_q32 = 0;  // ticks per ns, 32.32 fixed point
} calibration;

uint64_t khz_from_hypervisor_leaf() {
  if (cpu::cpuid(hypervisor_base_leaf).eax < hypervisor_timing_leaf) return 0;
  return cpu::cpuid(hypervisor_timing_leaf).eax;
}

uint64_t khz_from_leaf_15() {
  if (cpu::cpuid(0).eax < 0x15) return 0;
  const auto r = cpu::cpuid(0x15);  // eax denominator, ebx numerator, ecx crystal Hz
  if (r.eax == 0 || r.ebx == 0 || r.ecx == 0) return 0;
  return uint64_t{r.ecx} * r.ebx / r.eax / 1000;
}

uint64_t khz_from_leaf_16() {
  if (cpu::cpuid(0).eax < 0x16) return 0;
  return uint64_t{cpu::cpuid(0x16).eax & 0xffff} * 1000;  // base frequency, MHz
}

uint64_t mul_q32(uint64_t value, uint64_t factor_q32) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(value) * factor_q32) >> 32);
}

}  // namespace

bool init() {
  struct Candidate {
    uint64_t (*probe)();
    TscSource source;
  };
  const Candidate candidates[] = {{khz_from_hypervisor_leaf, TscSource::hypervisor_leaf},
                                  {khz_from_leaf_15, TscSource::cpuid_15},
                                  {khz_from_leaf_16, TscSource::cpuid_16},
                                  {pit::measure_tsc_khz, TscSource::pit}};
  for (const Candidate& c : candidates) {
    const uint64_t khz = c.probe();
    if (khz == 0) continue;
    calibration.khz = khz;
    calibration.source = c.source;
    calibration.ns_per_tick_q32 = (uint64_t{1'000'000} << 32) / khz;
    calibration.ticks_per_ns_q32 = (khz << 32) / 1'000'000;
    calibration.boot_tsc = cpu::rdtsc();
    return true;
  }
  return false;
}

uint64_t tsc_khz() { return calibration.khz; }
TscSource tsc_source() { return calibration.source; }

const char* tsc_source_name() {
  switch (calibration.source) {
    case TscSource::hypervisor_leaf: return "cpuid 0x40000010";
    case TscSource::cpuid_15: return "cpuid 0x15";
    case TscSource::cpuid_16: return "cpuid 0x16";
    case TscSource::pit: return "pit";
  }
  return "unknown";
}

uint64_t ticks_to_ns(uint64_t ticks) { return mul_q32(ticks, calibration.ns_per_tick_q32); }
uint64_t ns_to_ticks(uint64_t ns) { return mul_q32(ns, calibration.ticks_per_ns_q32); }
uint64_t now_ns() { return ticks_to_ns(cpu::rdtsc() - calibration.boot_tsc); }

void delay_ns(uint64_t ns) {
  const Deadline deadline = Deadline::after_ns(ns);
  while (!deadline.expired()) cpu::pause();
}

Deadline Deadline::after_ns(uint64_t ns) { return Deadline(cpu::rdtsc() + ns_to_ticks(ns)); }
bool Deadline::expired() const { return cpu::rdtsc() >= tsc_; }
uint64_t Deadline::remaining_ns() const {
  const uint64_t now = cpu::rdtsc();
  return now >= tsc_ ? 0 : ticks_to_ns(tsc_ - now);
}

}  // namespace guest::time
