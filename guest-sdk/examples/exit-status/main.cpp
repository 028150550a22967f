// Exit status: exits with the value of status=N from the command line (default 0).
#include <guest/kernel.hpp>

using namespace guest;

int kernel_main() {
  const cmdline::Lookup status = cmdline::find("status");
  uint64_t value = 0;
  if (status.found) {
    const cmdline::ParsedInteger parsed = cmdline::parse_u64(status.value);
    if (!parsed.ok || parsed.value > 0xffffffff) {
      print("exit-status: bad status \"{}\"\n", status.value);
      return static_cast<int>(exit_failure);
    }
    value = parsed.value;
  }
  print("exit-status: {}\n", value);
  return static_cast<int>(value);
}
