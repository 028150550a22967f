// SMP: starting the application processors and running work on every CPU.
//
// start_aps() sends INIT-SIPI-SIPI to all other CPUs at once; each AP takes the next CPU index when it
// arrives and records its APIC id, so nothing assumes APIC ids 0..N-1. Started APs idle in hlt and
// wake for run_on_all().
#pragma once

#include <cstdint>
#include <type_traits>

namespace guest::smp {

struct StartResult {
  uint32_t expected;  // CPUs the CPUID topology reports, including the boot CPU
  uint32_t online;    // CPUs that arrived, including the boot CPU
};

// CPUs in the package: CPUID 0xB subleaf 1 EBX[15:0], else CPUID 1 EBX[23:16], else 1.
uint32_t expected_cpu_count();

// Boot CPU only, once: starts the APs and waits up to timeout_ns for all expected ones.
StartResult start_aps(uint64_t timeout_ns = 1'000'000'000);

uint32_t online_count();
// This CPU's index: 0 for the boot CPU, 1.. in AP arrival order.
uint32_t cpu_index();
uint32_t apic_id();
uint32_t apic_id_of(uint32_t index);

// Runs fn(arg) on every online CPU, the caller included, and returns when all calls returned. Boot CPU
// only; calls do not overlap (a lock serializes callers).
void run_on_all(void (*fn)(void*), void* arg);

// run_on_all([&] { ... }): the callable lives on the caller's stack for the whole call.
template <typename F>
void run_on_all(F&& f) {
  using Callable = std::remove_reference_t<F>;
  run_on_all([](void* p) { (*static_cast<Callable*>(p))(); }, const_cast<void*>(static_cast<const void*>(&f)));
}

}  // namespace guest::smp
