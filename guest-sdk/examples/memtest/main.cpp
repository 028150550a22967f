// Memtest: fills all free RAM with an address-dependent pattern on every CPU and verifies it.
//
// The free RAM is cut into chunks that the CPUs take from a shared counter, first to fill, then
// (after a barrier) to verify, with the chunk order rotated so most chunks are checked by a CPU
// other than the one that wrote them.
#include <atomic>

#include <guest/barrier.hpp>
#include <guest/kernel.hpp>
#include <guest/phys_memory.hpp>

using namespace guest;

namespace {

constexpr uint64_t chunk_size = 2 << 20;  // a multiple of the pattern block
constexpr size_t max_chunks = 8192;  // 16 GiB of 2 MiB chunks; larger memories get larger chunks

struct Chunk {
  uint64_t base;
  uint64_t size;
};

struct Job {
  Chunk chunks[max_chunks];
  size_t chunk_count = 0;
  std::atomic<size_t> next_fill{0};
  std::atomic<size_t> next_verify{0};
  std::atomic<uint64_t> first_bad{UINT64_MAX};
  Barrier* barrier = nullptr;
};

// The pattern is constant within a 512-byte block and differs between blocks, so one rep stosq
// writes a block and one repe scasq checks it: string instructions are also what a hypervisor that
// has to emulate guest code runs fastest.
constexpr uint64_t block_size = 512;

uint64_t pattern(uint64_t address) {
  const uint64_t block = address & ~(block_size - 1);
  return (block * 0x9e3779b97f4a7c15) ^ (block >> 17) ^ 0x5a5a5a5a5a5a5a5a;
}

void fill(const Chunk& c) {
  for (uint64_t block = c.base; block < c.base + c.size; block += block_size) {
    // SAFETY: c lies inside free RAM (phys_memory), which nothing else in the kernel uses.
    void* destination = reinterpret_cast<void*>(block);
    uint64_t count = block_size / 8;
    asm volatile("rep stosq" : "+D"(destination), "+c"(count) : "a"(pattern(block)) : "memory");
  }
}

uint64_t verify(const Chunk& c) {
  for (uint64_t block = c.base; block < c.base + c.size; block += block_size) {
    const void* cursor = reinterpret_cast<const void*>(block);
    uint64_t count = block_size / 8;
    bool mismatch;
    asm volatile("repe scasq" : "+D"(cursor), "+c"(count), "=@ccnz"(mismatch) : "a"(pattern(block)) : "memory");
    // scasq stops one word past the first mismatch.
    if (mismatch) return reinterpret_cast<uintptr_t>(cursor) - 8;
  }
  return UINT64_MAX;
}

void record_bad(Job& job, uint64_t address) {
  uint64_t seen = job.first_bad.load(std::memory_order_relaxed);
  while (address < seen && !job.first_bad.compare_exchange_weak(seen, address, std::memory_order_relaxed)) {
  }
}

void work(Job& job) {
  for (size_t i; (i = job.next_fill.fetch_add(1, std::memory_order_relaxed)) < job.chunk_count;) fill(job.chunks[i]);
  asm volatile("" ::: "memory");
  job.barrier->wait();
  const size_t shift = job.chunk_count / 2 + 1;
  for (size_t i; (i = job.next_verify.fetch_add(1, std::memory_order_relaxed)) < job.chunk_count;) {
    const uint64_t bad = verify(job.chunks[(i + shift) % job.chunk_count]);
    if (bad != UINT64_MAX) record_bad(job, bad);
  }
}

// Job holds the chunk table; too large for a 16 KiB stack.
Job job;

}  // namespace

int kernel_main() {
  const smp::StartResult started = smp::start_aps();
  phys_memory::Range ranges[phys_memory::max_free_ranges];
  const size_t range_count = phys_memory::free_ranges(ranges, phys_memory::max_free_ranges);
  uint64_t total = 0;
  for (size_t r = 0; r < range_count; ++r) total += ranges[r].size;
  uint64_t size = chunk_size;
  while (total / size + range_count > max_chunks) size *= 2;
  for (size_t r = 0; r < range_count; ++r)
    for (uint64_t offset = 0; offset < ranges[r].size; offset += size) {
      const uint64_t left = ranges[r].size - offset;
      job.chunks[job.chunk_count++] = Chunk{ranges[r].base + offset, left < size ? left : size};
    }

  Barrier barrier(smp::online_count());
  job.barrier = &barrier;
  print("memtest: testing {} MiB in {} ranges on {} cpus\n", total >> 20, range_count, started.online);
  const uint64_t start = time::now_ns();
  smp::run_on_all([] { work(job); });
  const uint64_t elapsed_ms = (time::now_ns() - start) / 1'000'000;
  const uint64_t bad = job.first_bad.load();
  if (bad != UINT64_MAX) {
    print("memtest: mismatch at {:#x}: expected {:#018x}\n", bad, pattern(bad));
    return static_cast<int>(exit_failure);
  }
  print("memtest: filled and verified in {} ms\n", elapsed_ms);
  print("memtest: {} MiB ok\n", total >> 20);
  return 0;
}
