// Floating-point workload: deterministic integer and SSE double arithmetic behind the sse test kernel.
#include "fp_workload.hpp"

namespace sse_check {
namespace {

// sqrtsd is correctly rounded, so unlike a libm call its result is the same on every x86-64 CPU.
double sqrt_sse(double x) {
  double r;
  asm("sqrtsd %1, %0" : "=x"(r) : "x"(x));
  return r;
}

uint64_t bits_of(double d) {
  uint64_t b;
  __builtin_memcpy(&b, &d, sizeof(b));
  return b;
}

}  // namespace

uint64_t run(uint64_t iterations) {
  uint64_t x = 0x9e3779b97f4a7c15;  // xorshift64* state
  uint64_t hash = 0xcbf29ce484222325;
  double logistic = 0.5;
  double sum = 0.0;
  for (uint64_t i = 0; i < iterations; ++i) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    const uint64_t r = x * 0x2545f4914f6cdd1d;
    const double unit = static_cast<double>(r >> 11) * 0x1.0p-53;  // [0, 1)
    logistic = 3.99 * logistic * (1.0 - logistic);
    sum += sqrt_sse(unit + logistic) / (1.0 + unit);
    if ((i & 1023) == 1023) {
      // Fold the floating-point state into the integer hash now and then, then keep sum bounded.
      hash = (hash ^ bits_of(sum) ^ bits_of(logistic)) * 0x100000001b3;
      sum = sum - static_cast<double>(static_cast<int64_t>(sum));
    }
    hash = (hash ^ (r >> 32)) * 0x100000001b3;
  }
  return hash ^ bits_of(sum) ^ (bits_of(logistic) << 1);
}

}  // namespace sse_check
