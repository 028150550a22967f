// Exception: executes ud2 so the SDK's exception report runs and the partition exits with 99.
#include <guest/kernel.hpp>

using namespace guest;

int kernel_main() {
  print("exception: executing ud2\n");
  asm volatile("ud2");
  return static_cast<int>(exit_failure);  // not reached
}
