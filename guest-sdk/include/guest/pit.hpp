// PIT: TSC calibration against the 8254 timer, for machines without a frequency in CPUID.
#pragma once

#include <cstdint>

namespace guest::pit {

// Measures the TSC against PIT channel 0 over about 20 ms; returns kHz, or 0 when no PIT counts.
uint64_t measure_tsc_khz();

}  // namespace guest::pit
