// Console: formatted, line-atomic output to the serial port, shared by all CPUs.
#pragma once

#include <cstddef>

#include <guest/format.hpp>

namespace guest {

namespace console {
// Writes a formatted message; the whole message is emitted under the console lock, so messages from
// different CPUs never interleave, and it leaves in as few string I/O instructions as fit its length.
void vprint(const char* fmt, const FormatArg* args, size_t count);
// Writes bytes unformatted under the console lock, in one rep outsb for the whole buffer.
void write(const char* data, size_t size);
// For crash reports: takes the console lock if it frees up within a short time and reports whether it
// did; the caller prints either way, and calls emergency_end(true) only when it got the lock.
bool emergency_begin();
void emergency_end(bool locked);
// Formats without taking the lock: only between emergency_begin() and emergency_end().
void vprint_unlocked(const char* fmt, const FormatArg* args, size_t count);
}  // namespace console

// print("cpu {} apic {:#x}\n", index, id)
template <typename... Args>
void print(FormatStringFor<Args...> fmt, const Args&... args) {
  const FormatArg list[] = {FormatArg(args)..., FormatArg()};
  console::vprint(fmt.get(), list, sizeof...(Args));
}

// Crash-report printing between console::emergency_begin() and emergency_end().
template <typename... Args>
void print_unlocked(FormatStringFor<Args...> fmt, const Args&... args) {
  const FormatArg list[] = {FormatArg(args)..., FormatArg()};
  console::vprint_unlocked(fmt.get(), list, sizeof...(Args));
}

}  // namespace guest
