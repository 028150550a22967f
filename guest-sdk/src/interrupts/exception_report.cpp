// Exception report: prints an unhandled CPU exception with the whole register state, then exits 99.
#include <guest/console.hpp>
#include <guest/cpu.hpp>
#include <guest/exit.hpp>
#include <guest/interrupts.hpp>

namespace guest::interrupts {
namespace {

const char* exception_name(uint64_t vector) {
  static constexpr const char* names[32] = {
      "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
      "#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor segment overrun",
      "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
      "#PF page fault", "reserved", "#MF x87 floating point", "#AC alignment check", "#MC machine check",
      "#XM SIMD floating point", "#VE virtualization", "#CP control protection", "reserved", "reserved",
      "reserved", "reserved", "reserved", "reserved", "#HV hypervisor injection", "#VC VMM communication",
      "#SX security", "reserved"};
  return vector < 32 ? names[vector] : "external interrupt";
}

}  // namespace

void report_exception(const Frame& f) {
  cpu::disable_interrupts();
  const uint64_t cr2 = cpu::read_cr2();
  // The initial APIC id from CPUID works even if the fault came before per-CPU data existed.
  const uint32_t apic_id = cpu::initial_apic_id();
  const bool locked = console::emergency_begin();
  print_unlocked("\nCPU EXCEPTION {} ({}) on apic {}\n", f.vector, exception_name(f.vector), apic_id);
  print_unlocked("  error {:#018x}  cr2 {:#018x}\n", f.error_code, cr2);
  print_unlocked("  rip {:#018x}  cs {:#06x}  rflags {:#010x}\n", f.rip, f.cs, f.rflags);
  print_unlocked("  rsp {:#018x}  ss {:#06x}\n", f.rsp, f.ss);
  print_unlocked("  rax {:#018x}  rbx {:#018x}  rcx {:#018x}\n", f.rax, f.rbx, f.rcx);
  print_unlocked("  rdx {:#018x}  rsi {:#018x}  rdi {:#018x}\n", f.rdx, f.rsi, f.rdi);
  print_unlocked("  rbp {:#018x}  r8  {:#018x}  r9  {:#018x}\n", f.rbp, f.r8, f.r9);
  print_unlocked("  r10 {:#018x}  r11 {:#018x}  r12 {:#018x}\n", f.r10, f.r11, f.r12);
  print_unlocked("  r13 {:#018x}  r14 {:#018x}  r15 {:#018x}\n", f.r13, f.r14, f.r15);
  console::emergency_end(locked);
  exit(exit_cpu_exception);
}

}  // namespace guest::interrupts
