// Kernel entry: the function every guest kernel defines, and the SDK headers it usually needs.
//
// The SDK's boot code sets up long mode, the console, the IDT, the TSC clock and the LAPIC on the
// boot CPU, runs global constructors and then calls kernel_main(). Its return value becomes the exit
// value. Application processors are started only when the kernel calls smp::start_aps().
#pragma once

#include <guest/boot_info.hpp>
#include <guest/cmdline.hpp>
#include <guest/console.hpp>
#include <guest/cpu.hpp>
#include <guest/exit.hpp>
#include <guest/panic.hpp>
#include <guest/smp.hpp>
#include <guest/time.hpp>

int kernel_main();
