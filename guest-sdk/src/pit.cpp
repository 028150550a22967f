// PIT: TSC calibration against the 8254 timer, for machines without a frequency in CPUID.
#include <guest/pit.hpp>

#include <guest/cpu.hpp>

namespace guest::pit {
namespace {
constexpr uint16_t channel0 = 0x40, command = 0x43;
constexpr uint64_t pit_hz = 1'193'182;
// 20 ms of PIT ticks: long enough that the ~10 us cost of each (trapping) counter read is noise.
constexpr uint64_t measure_ticks = pit_hz / 50;

uint16_t read_counter() {
  cpu::outb(command, 0x00);  // latch channel 0
  const uint8_t lo = cpu::inb(channel0);
  const uint8_t hi = cpu::inb(channel0);
  return static_cast<uint16_t>(lo | (hi << 8));
}
}  // namespace

uint64_t measure_tsc_khz() {
  // Channel 0, lobyte/hibyte, mode 2 (rate generator), reload 0 = 65536: a free-running down-counter.
  // Its interrupt is harmless: interrupts are off and the interrupt controllers are not programmed.
  cpu::outb(command, 0x34);
  cpu::outb(channel0, 0);
  cpu::outb(channel0, 0);

  uint16_t last = read_counter();
  // Without a PIT the port reads as all ones and never changes; give up after a bounded number of reads.
  for (unsigned reads = 0;; ++reads) {
    const uint16_t now = read_counter();
    if (now != last) {
      last = now;
      break;
    }
    if (reads > 1000) return 0;
  }
  const uint64_t tsc_start = cpu::rdtsc();
  uint64_t elapsed = 0;
  unsigned stuck_reads = 0;
  while (elapsed < measure_ticks) {
    const uint16_t now = read_counter();
    if (now == last) {
      if (++stuck_reads > 100000) return 0;
      continue;
    }
    stuck_reads = 0;
    elapsed += static_cast<uint16_t>(last - now);  // down-counter; the subtraction handles the wrap
    last = now;
  }
  const uint64_t tsc_elapsed = cpu::rdtsc() - tsc_start;
  return tsc_elapsed * pit_hz / elapsed / 1000;
}

}  // namespace guest::pit
