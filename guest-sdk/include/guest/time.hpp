// Time: the TSC as a nanosecond clock, busy-wait delays and deadlines.
//
// The TSC frequency comes, in order, from the hypervisor timing leaf 0x40000010 (tilehv, and KVM
// through QEMU when the host TSC is invariant), CPUID 0x15, CPUID 0x16, or a calibration against
// the PIT.
#pragma once

#include <cstdint>

namespace guest::time {

enum class TscSource : uint8_t { hypervisor_leaf, cpuid_15, cpuid_16, pit };

// Finds the TSC frequency; the boot CPU calls it once. Returns false when no source works.
[[nodiscard]] bool init();

uint64_t tsc_khz();
TscSource tsc_source();
const char* tsc_source_name();

uint64_t ticks_to_ns(uint64_t ticks);
uint64_t ns_to_ticks(uint64_t ns);

// Nanoseconds since time::init().
uint64_t now_ns();

// Spins (with pause) for at least ns.
void delay_ns(uint64_t ns);
inline void delay_us(uint64_t us) { delay_ns(us * 1000); }
inline void delay_ms(uint64_t ms) { delay_ns(ms * 1'000'000); }

// A point in TSC time; cheap to test in a polling loop.
class Deadline {
 public:
  static Deadline after_ns(uint64_t ns);
  bool expired() const;
  // Nanoseconds left, 0 once expired (to arm a timer for the rest of a wait).
  uint64_t remaining_ns() const;

 private:
  explicit Deadline(uint64_t tsc) : tsc_(tsc) {}
  uint64_t tsc_;
};

}  // namespace guest::time
