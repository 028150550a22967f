// PIO loop: writes count=N bytes to port=P (default the UART scratch register, 0x3ff), one VM exit
// each, then exits 0. The guest side of the exit round-trip benchmark.
#include <guest/kernel.hpp>

using namespace guest;

int kernel_main() {
  const std::uint64_t count = cmdline::get_u64("count", 100000);
  const auto port = static_cast<std::uint16_t>(cmdline::get_u64("port", 0x3ff));
  for (std::uint64_t i = 0; i < count; ++i) {
    asm volatile("outb %b0, %w1" : : "a"(static_cast<std::uint8_t>(i)), "Nd"(port));
  }
  return 0;
}
