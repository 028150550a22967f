// PIO exit round trip: tilehv's exit loop (bus, device, run control) against a bare KVM_RUN loop, on
// the same guest: pio-loop writes `count` bytes to the UART scratch register, one exit each. The
// time per iteration divided by `count` is the round trip; the ratio of the two medians is the target.
#include <linux/kvm.h>

#include <string>

#include <benchmark/benchmark.h>

#include "floor/floor_vm.hpp"
#include "serial/console_sink.hpp"
#include "vmm/vmm.hpp"

namespace {

const std::string kKernel = std::string(TILEHV_GUEST_DIR) + "/pio-loop.elf";
constexpr std::uint64_t kMemory = 32ULL << 20;

std::string cmdline(std::int64_t count) { return "count=" + std::to_string(count); }

void BM_PioExit_TilehvLoop(benchmark::State& state) {
  const std::int64_t count = state.range(0);
  for (auto _ : state) {
    state.PauseTiming();
    tilehv::vdevices::RingSink sink(4096);
    tilehv::vmm::VmmConfig config;
    config.kernel_path = kKernel;
    config.memory_bytes = kMemory;
    config.cmdline = cmdline(count);
    config.console = &sink;
    auto vmm = tilehv::vmm::Vmm::create(config);
    if (!vmm) {
      state.SkipWithError(vmm.error().message.c_str());
      return;
    }
    state.ResumeTiming();
    const auto end = (*vmm)->run_on_this_thread();
    state.PauseTiming();
    if (end.kind != tilehv::vmm::VmEnd::Kind::kGuestExit || end.guest_value != 0) {
      state.SkipWithError(("guest did not exit cleanly: " + tilehv::vmm::describe(end)).c_str());
      return;
    }
    vmm->reset();
    state.ResumeTiming();
  }
  state.counters["exits_per_s"] = benchmark::Counter(static_cast<double>(count) * static_cast<double>(state.iterations()),
                                                      benchmark::Counter::kIsRate);
}

void BM_PioExit_BareKvmRun(benchmark::State& state) {
  const std::int64_t count = state.range(0);
  for (auto _ : state) {
    state.PauseTiming();
    auto vm = std::make_unique<tilehv::bench::FloorVm>();
    std::string error;
    if (!vm->create(kKernel, kMemory, cmdline(count), error)) {
      state.SkipWithError(error.c_str());
      return;
    }
    state.ResumeTiming();
    for (;;) {
      const int reason = vm->run_once();
      if (reason != KVM_EXIT_IO) {
        if (reason == KVM_EXIT_MMIO) continue;
        state.SkipWithError("unexpected exit");
        return;
      }
      kvm_run* run = vm->run_struct();
      if (run->io.port == 0xf4) break;
      if (run->io.direction == KVM_EXIT_IO_IN) {
        // Answer the SDK's line-status polls as the UART would: transmitter empty.
        for (std::uint32_t i = 0; i < std::uint32_t{run->io.size} * run->io.count; ++i) vm->io_data()[i] = 0x60;
      }
    }
    state.PauseTiming();
    vm.reset();
    state.ResumeTiming();
  }
  state.counters["exits_per_s"] = benchmark::Counter(static_cast<double>(count) * static_cast<double>(state.iterations()),
                                                      benchmark::Counter::kIsRate);
}

// 100k exits per run keep the guest's boot (a few dozen exits) below 0.1% of the measurement.
BENCHMARK(BM_PioExit_BareKvmRun)->Arg(100000)->Iterations(5)->Repetitions(3)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_PioExit_TilehvLoop)->Arg(100000)->Iterations(5)->Repetitions(3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
