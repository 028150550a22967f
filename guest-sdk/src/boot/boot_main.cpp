// Boot: the boot CPU's first C++ code, from long mode to kernel_main().
#include <guest/boot_info.hpp>
#include <guest/console.hpp>
#include <guest/cpu.hpp>
#include <guest/exit.hpp>
#include <guest/gdt.hpp>
#include <guest/interrupts.hpp>
#include <guest/kernel.hpp>
#include <guest/lapic.hpp>
#include <guest/per_cpu.hpp>
#include <guest/phys_memory.hpp>
#include <guest/time.hpp>
#include <guest/uart.hpp>

extern "C" {
using Constructor = void (*)();
extern Constructor __init_array_start[], __init_array_end[];
}

namespace guest {
namespace {

void run_global_constructors() {
  for (Constructor* c = __init_array_start; c != __init_array_end; ++c) (*c)();
}

}  // namespace

// Entered from entry.S on the boot stack with the PVH start info address.
extern "C" [[noreturn]] void boot_main(uint32_t start_info_address) {
  // Faults are reportable from here on; the report needs nothing but the UART.
  per_cpu_init(0, cpu::initial_apic_id());
  gdt::load_tss(this_cpu());
  interrupts::init();
  interrupts::load();
  uart::init();

  if (!boot_info::init(start_info_address)) {
    print("boot: no valid PVH start info at {:#x}\n", start_info_address);
    exit(exit_failure);
  }
  if (!time::init()) {
    print("boot: cannot determine the TSC frequency\n");
    exit(exit_failure);
  }
  lapic::init_this_cpu();
  this_cpu().apic_id_ = lapic::id();
  lapic::calibrate_timer();
  phys_memory::reserve_trampoline_page();
  run_global_constructors();

  exit(static_cast<uint32_t>(kernel_main()));
}

}  // namespace guest
