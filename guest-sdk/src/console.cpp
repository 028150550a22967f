// Console: formatted, line-atomic output to the serial port, shared by all CPUs.
#include <guest/console.hpp>

#include <guest/spinlock.hpp>
#include <guest/uart.hpp>

namespace guest::console {
namespace {

// The one console lock: the serial port is a single device shared by every CPU.
TicketLock console_lock;

// About 0.1 s on any plausible TSC; a report from a dying CPU must not wait forever for a lock whose
// holder may be that very CPU.
constexpr uint64_t emergency_wait_ticks = 300'000'000;

void uart_sink(void*, const char* text, size_t size) { uart::write(text, size); }

}  // namespace

void vprint(const char* fmt, const FormatArg* args, size_t count) {
  LockGuard guard(console_lock);
  vformat(FormatSink{uart_sink, nullptr}, fmt, args, count);
}

void vprint_unlocked(const char* fmt, const FormatArg* args, size_t count) {
  vformat(FormatSink{uart_sink, nullptr}, fmt, args, count);
}

void write(const char* data, size_t size) {
  LockGuard guard(console_lock);
  uart::write(data, size);
}

bool emergency_begin() { return console_lock.lock_with_timeout(emergency_wait_ticks); }

void emergency_end(bool locked) {
  if (locked) console_lock.unlock();
}

}  // namespace guest::console
