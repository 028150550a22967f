// Variant: which of the six tile-controller images this is. One source is built six times, each
// with TILE_CONTROLLER_VARIANT set (guest-sdk/CMakeLists.txt), so the variants differ in exactly the
// behaviour named here and nowhere else; a shadow comparison between two of them then tests the
// tile, not accidental differences between two programs.
#pragma once

#include <cstdint>

#ifndef TILE_CONTROLLER_VARIANT
#error "TILE_CONTROLLER_VARIANT (1..6) selects the tile controller's variant; the build sets it per image"
#endif

namespace tile_controller::variant {

inline constexpr int kNumber = TILE_CONTROLLER_VARIANT;
static_assert(kNumber >= 1 && kNumber <= 6, "tile-controller variants are v1..v6");

#define TILE_CONTROLLER_TEXT_(x) #x
#define TILE_CONTROLLER_TEXT(x) TILE_CONTROLLER_TEXT_(x)
// The prefix of every console line: "tile-controller v2: ...".
inline constexpr const char* kName = "tile-controller v" TILE_CONTROLLER_TEXT(TILE_CONTROLLER_VARIANT);
#undef TILE_CONTROLLER_TEXT
#undef TILE_CONTROLLER_TEXT_

// v2: the moving average from a running sum instead of summing the window for every input.
inline constexpr bool kRunningSum = kNumber == 2;
// v3: the valve command is off by kBandOffset while the temperature lies in the band= range.
inline constexpr bool kBandBug = kNumber == 3;
inline constexpr int64_t kBandOffset = 7;

// v4..v6: what goes wrong once after= inputs were handled.
enum class Fault { none, crash, hang, flood };
inline constexpr Fault kFault = kNumber == 4   ? Fault::crash
                                : kNumber == 5 ? Fault::hang
                                : kNumber == 6 ? Fault::flood
                                               : Fault::none;

}  // namespace tile_controller::variant
