// Exit: ends the partition with an exit value the VMM reports.
//
// Exit value contract: 0 success, 1 generic failure, 98 panic or failed assertion, 99 unhandled CPU
// exception. Kernels use values 0..100 only.
#pragma once

#include <cstdint>

namespace guest {

inline constexpr uint32_t exit_success = 0;
inline constexpr uint32_t exit_failure = 1;
inline constexpr uint32_t exit_panic = 98;
inline constexpr uint32_t exit_cpu_exception = 99;

// Writes value with a 32-bit out to port 0xf4 (QEMU isa-debug-exit compatible); if nothing ends the
// partition there, halts this CPU forever with interrupts off.
[[noreturn]] void exit(uint32_t value);

}  // namespace guest
