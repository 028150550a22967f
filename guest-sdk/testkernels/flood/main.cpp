// Flood: prints numbered lines forever as fast as the console takes them.
#include <guest/kernel.hpp>

using namespace guest;

int kernel_main() {
  for (uint64_t counter = 0;; ++counter) print("flood {}\n", counter);
}
