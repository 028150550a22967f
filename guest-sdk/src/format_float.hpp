// Float formatting: renders a floating-point FormatArg; the only SDK code that uses SSE registers.
#pragma once

#include <cstddef>

#include <guest/format.hpp>

namespace guest::format_detail {

struct FloatText {
  char digits[96];
  size_t start;  // the text is digits[start, sizeof(digits))
  bool negative;
};

// Fixed notation with precision fraction digits (-1: 6, capped at 17); "inf" and "nan" as such.
void render_float(const FormatArg& arg, int precision, FloatText& out);

}  // namespace guest::format_detail
