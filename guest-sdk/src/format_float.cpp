// Float formatting: renders a floating-point FormatArg; the only SDK code that uses SSE registers.
#include "format_float.hpp"

#include <cstdint>

namespace guest::format_detail {

// Fixed-point rendering with round-half-up at the requested precision; values beyond 2^64 fall back
// to a mantissa and power of ten, which is all a kernel log needs.
void render_float(const FormatArg& arg, int precision, FloatText& out) {
  double value = arg.as_double();
  uint64_t bits;
  __builtin_memcpy(&bits, &value, sizeof(bits));
  out.negative = (bits >> 63) != 0;
  size_t pos = sizeof(out.digits);
  auto put = [&](char c) { out.digits[--pos] = c; };
  if (((bits >> 52) & 0x7ff) == 0x7ff) {
    const bool nan = (bits & ((uint64_t{1} << 52) - 1)) != 0;
    if (nan) out.negative = false;
    put(nan ? 'n' : 'f');
    put(nan ? 'a' : 'n');
    put(nan ? 'n' : 'i');
    out.start = pos;
    return;
  }
  if (out.negative) value = -value;
  if (precision < 0) precision = 6;
  if (precision > 17) precision = 17;
  int exponent = 0;
  while (value >= 1.8e19) {
    value /= 10.0;
    ++exponent;
  }
  double scale = 1.0;
  for (int i = 0; i < precision; ++i) scale *= 10.0;
  uint64_t integral = static_cast<uint64_t>(value);
  const double fraction = value - static_cast<double>(integral);
  uint64_t fraction_digits = static_cast<uint64_t>(fraction * scale + 0.5);
  if (static_cast<double>(fraction_digits) >= scale) {  // rounding carried into the integral part
    fraction_digits = 0;
    ++integral;
  }
  if (exponent != 0) {
    int e = exponent;
    do {
      put(static_cast<char>('0' + e % 10));
      e /= 10;
    } while (e != 0);
    put('e');
  }
  for (int i = 0; i < precision; ++i) {
    put(static_cast<char>('0' + fraction_digits % 10));
    fraction_digits /= 10;
  }
  if (precision > 0) put('.');
  do {
    put(static_cast<char>('0' + integral % 10));
    integral /= 10;
  } while (integral != 0);
  out.start = pos;
}

}  // namespace guest::format_detail
