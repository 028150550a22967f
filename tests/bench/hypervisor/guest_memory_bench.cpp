// Guest-memory accessor throughput: checked slices and copies against guest RAM, one and two regions.
#include <cstring>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "memory/guest_memory.hpp"

namespace {

using tilehv::memory::GuestMemory;
using tilehv::memory::kMiB;

GuestMemory make(std::uint64_t size) {
  auto m = GuestMemory::create(size);
  if (!m) std::abort();  // the benchmark cannot run without memory
  // Touch a working set so page faults are not measured.
  auto s = m->slice(0, 64 * kMiB);
  std::memset(s->data(), 1, s->size());
  return std::move(*m);
}

// Random 8-byte object reads inside the first 64 MiB: the cost of the check plus the copy.
void BM_GuestMemory_ReadObject(benchmark::State& state) {
  const auto mem = make(static_cast<std::uint64_t>(state.range(0)) * kMiB);
  std::mt19937_64 rng(1);
  std::vector<std::uint64_t> addrs(4096);
  for (auto& a : addrs) a = (rng() % (64 * kMiB - 8)) & ~7ULL;
  std::size_t i = 0;
  std::uint64_t sum = 0;
  for (auto _ : state) {
    auto v = mem.read_object<std::uint64_t>(addrs[i++ & 4095]);
    sum += *v;  // in range by construction
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Checked slice lookups alone, including out-of-range ones (a quarter of them).
void BM_GuestMemory_SliceCheck(benchmark::State& state) {
  const auto mem = make(static_cast<std::uint64_t>(state.range(0)) * kMiB);
  std::mt19937_64 rng(2);
  std::vector<std::uint64_t> addrs(4096);
  for (auto& a : addrs) a = rng() % (mem.size() + mem.size() / 3);
  std::size_t i = 0, ok = 0;
  for (auto _ : state) ok += mem.slice(addrs[i++ & 4095], 256).has_value() ? 1 : 0;
  benchmark::DoNotOptimize(ok);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

// Bulk copies through write(): bytes per second for 4 KiB and 64 KiB buffers.
void BM_GuestMemory_Write(benchmark::State& state) {
  const auto mem = make(64 * kMiB);
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(state.range(0)), 0x5a);
  std::uint64_t at = 0;
  for (auto _ : state) {
    auto r = mem.write(at, buf);
    benchmark::DoNotOptimize(r);
    at = (at + buf.size()) % (32 * kMiB);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

// The floor for the copy: memcpy into the same mapping with no check.
void BM_RawMemcpy(benchmark::State& state) {
  const auto mem = make(64 * kMiB);
  std::uint8_t* base = mem.slice(0, 32 * kMiB)->data();
  std::vector<std::uint8_t> buf(static_cast<std::size_t>(state.range(0)), 0x5a);
  std::uint64_t at = 0;
  for (auto _ : state) {
    std::memcpy(base + at, buf.data(), buf.size());
    benchmark::ClobberMemory();
    at = (at + buf.size()) % (32 * kMiB);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

BENCHMARK(BM_GuestMemory_ReadObject)->Arg(256)->Arg(4096);
BENCHMARK(BM_GuestMemory_SliceCheck)->Arg(256)->Arg(4096);
BENCHMARK(BM_GuestMemory_Write)->Arg(4096)->Arg(65536);
BENCHMARK(BM_RawMemcpy)->Arg(4096)->Arg(65536);

}  // namespace
