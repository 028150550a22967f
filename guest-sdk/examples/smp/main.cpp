// SMP: starts every vCPU, has each one report itself, and checks that all of them arrived.
#include <guest/kernel.hpp>

using namespace guest;

namespace {
// A second that covers INIT-SIPI-SIPI and the first instructions of every AP, even on a loaded host.
constexpr uint64_t arrival_timeout_ns = 1'000'000'000;
}  // namespace

int kernel_main() {
  const smp::StartResult started = smp::start_aps(arrival_timeout_ns);
  if (started.online < started.expected) {
    print("smp: only {}/{} cpus arrived within 1 s\n", started.online, started.expected);
    print("smp: arrived apic ids:");
    for (uint32_t i = 0; i < started.online; ++i) print(" {}", smp::apic_id_of(i));
    print("\n");
    // Which ones are missing can only be named by assuming the usual numbering 0..n-1.
    print("smp: missing apic ids, assuming ids 0..{}:", started.expected - 1);
    for (uint32_t id = 0; id < started.expected; ++id) {
      bool arrived = false;
      for (uint32_t i = 0; i < started.online; ++i) arrived = arrived || smp::apic_id_of(i) == id;
      if (!arrived) print(" {}", id);
    }
    print("\n");
    return static_cast<int>(exit_failure);
  }
  smp::run_on_all([] { print("cpu {} apic {} online\n", smp::cpu_index(), smp::apic_id()); });
  print("smp: {}/{} cpus online\n", started.online, started.expected);
  return 0;
}
