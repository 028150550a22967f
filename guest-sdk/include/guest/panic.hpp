// Panic: reports a fatal kernel error on the console and exits with exit_panic (98).
#pragma once

#include <guest/console.hpp>
#include <guest/exit.hpp>

namespace guest {

[[noreturn]] void vpanic(const char* fmt, const FormatArg* args, size_t count);

template <typename... Args>
[[noreturn]] void panic(FormatStringFor<Args...> fmt, const Args&... args) {
  const FormatArg list[] = {FormatArg(args)..., FormatArg()};
  vpanic(fmt.get(), list, sizeof...(Args));
}

}  // namespace guest

// Checks an invariant in every build: a kernel has no debugger, so a failed check must say where.
#define GUEST_ASSERT(condition)                                                                      \
  do {                                                                                               \
    if (!(condition)) ::guest::panic("assertion failed: {} at {}:{}\n", #condition, __FILE__, __LINE__); \
  } while (0)
