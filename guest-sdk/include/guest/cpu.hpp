// CPU instructions: port I/O, MSRs, CPUID, TSC and control registers as inline functions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace guest::cpu {

inline void outb(uint16_t port, uint8_t value) { asm volatile("outb %0, %1" ::"a"(value), "Nd"(port)); }
inline void outl(uint16_t port, uint32_t value) { asm volatile("outl %0, %1" ::"a"(value), "Nd"(port)); }
inline uint8_t inb(uint16_t port) {
  uint8_t value;
  asm volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}

// One string instruction moves the whole buffer: under virtualization it is a single exit per page
// instead of one exit per byte.
inline void outsb(uint16_t port, const void* data, size_t count) {
  asm volatile("rep outsb" : "+S"(data), "+c"(count) : "d"(port) : "memory");
}

inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}
inline void wrmsr(uint32_t msr, uint64_t value) {
  asm volatile("wrmsr" ::"c"(msr), "a"(static_cast<uint32_t>(value)), "d"(static_cast<uint32_t>(value >> 32)));
}

struct CpuidResult {
  uint32_t eax, ebx, ecx, edx;
};
inline CpuidResult cpuid(uint32_t leaf, uint32_t subleaf = 0) {
  CpuidResult r;
  asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
  return r;
}

// lfence orders rdtsc after earlier instructions, so a timed region cannot leak out of it.
inline uint64_t rdtsc() {
  uint32_t lo, hi;
  asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

inline void pause() { asm volatile("pause" ::: "memory"); }
inline void disable_interrupts() { asm volatile("cli" ::: "memory"); }
inline void enable_interrupts() { asm volatile("sti" ::: "memory"); }
// sti's one-instruction shadow makes "sti; hlt" atomic: a wakeup arriving in between still ends the hlt.
inline void enable_interrupts_and_halt() { asm volatile("sti; hlt" ::: "memory"); }
inline bool interrupts_enabled() {
  uint64_t flags;
  asm volatile("pushfq; popq %0" : "=r"(flags));
  return (flags & (1u << 9)) != 0;
}

inline uint64_t read_cr2() {
  uint64_t value;
  asm volatile("mov %%cr2, %0" : "=r"(value));
  return value;
}

[[noreturn]] inline void halt_forever() {
  for (;;) asm volatile("cli; hlt" ::: "memory");
}

// The initial APIC id from CPUID: valid before the LAPIC or per-CPU data are set up.
inline uint32_t initial_apic_id() { return cpuid(1).ebx >> 24; }

inline constexpr uint32_t msr_apic_base = 0x1b;
inline constexpr uint32_t msr_gs_base = 0xc0000101;

}  // namespace guest::cpu
