// Faults: how v4, v5 and v6 go wrong, for the tile's shadow comparator to catch
// (docs/design/shadows.md, Faults). Each behaves exactly like v1 for the first after=N inputs; the
// input after them triggers the fault, so that input and every later one get no proper command.
#pragma once

#include "controller.hpp"
#include "output_link.hpp"

namespace tile_controller {

// v4 crashes with a CPU exception, v5 hangs, v6 floods; never returns. Only for those variants.
[[noreturn]] void run_fault(OutputLink& output, const Command& last);

}  // namespace tile_controller
