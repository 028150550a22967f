// Interrupts: the shared IDT, the saved register frame and per-vector handlers.
//
// Every vector enters through one assembly path that saves the general registers and the SSE state
// (fxsave), so handlers are ordinary C++ and may use floating point without corrupting the
// interrupted code. Exceptions without a handler are reported on the console and end the partition
// with exit value 99.
#pragma once

#include <cstdint>

namespace guest::interrupts {

// The registers of the interrupted context, lowest address first, as the entry path pushes them.
struct Frame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector;
  uint64_t error_code;  // 0 for vectors without one
  uint64_t rip, cs, rflags, rsp, ss;
};

using Handler = void (*)(Frame& frame);

// Vectors the SDK itself uses; kernels may take 0x30..0xef.
inline constexpr uint8_t first_kernel_vector = 0x30;
inline constexpr uint8_t wakeup_vector = 0xf0;  // run_on_all wakes idle CPUs with it
inline constexpr uint8_t timer_vector = 0xf1;   // the SDK's LAPIC timer (sleep)
inline constexpr uint8_t spurious_vector = 0xff;
// Device interrupts routed through the IOAPIC by virtio::DeviceInterrupt take 0xf2..0xf9.
inline constexpr uint8_t first_device_vector = 0xf2;
inline constexpr uint8_t device_vector_count = 8;

// Builds the IDT; the boot CPU calls it once before anything can fault.
void init();
// Loads the IDT on the running CPU.
void load();
// Installs handler for vector (nullptr removes it). For vectors 32 and up the entry path sends the
// LAPIC EOI after the handler returns; for exceptions the handler decides whether returning is safe.
void set_handler(uint8_t vector, Handler handler);

// Reports an exception with the full register state and exits with exit_cpu_exception (99).
[[noreturn]] void report_exception(const Frame& frame);

}  // namespace guest::interrupts
