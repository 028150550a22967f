// Integration tests for Vmm run control: pause, resume and stop of every vCPU from another thread,
// and the bounded console ring under a flooding guest.
#include "vmm/vmm.hpp"

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"

namespace tilehv::vmm {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::unique_ptr<Vmm> boot(const std::string& kernel, std::uint32_t vcpus, vdevices::ConsoleSink& sink) {
  VmmConfig config;
  config.kernel_path = testing::guest_kernel(kernel);
  config.memory_bytes = 64 * memory::kMiB;
  config.vcpus = vcpus;
  config.console = &sink;
  auto vmm = Vmm::create(config);
  EXPECT_TRUE(vmm) << vmm.error().message;
  if (!vmm) return nullptr;
  EXPECT_TRUE((*vmm)->start());
  return std::move(*vmm);
}

// Waits until the console has received at least `bytes`.
bool wait_for_output(const vdevices::RingSink& sink, std::uint64_t bytes, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (sink.total_bytes() < bytes) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::uint64_t resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      std::uint64_t kib = 0;
      status >> kib;
      return kib;
    }
  }
  return 0;
}

TEST(VmmControl, PauseStopsOutputAndResumeRestartsIt) {
  TILEHV_REQUIRE_KVM();
  vdevices::RingSink sink(64 * 1024);
  auto vmm = boot("flood", 4, sink);
  ASSERT_TRUE(vmm);
  ASSERT_TRUE(wait_for_output(sink, 10'000, 5s));

  ASSERT_TRUE(vmm->pause(1s)) << "every vCPU must park within a second";
  const std::uint64_t at_pause = sink.total_bytes();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(sink.total_bytes(), at_pause) << "a paused guest must not run";

  vmm->resume();
  EXPECT_TRUE(wait_for_output(sink, at_pause + 10'000, 5s)) << "a resumed guest must run again";

  const auto stop_at = Clock::now();
  vmm->stop({VmEnd::Kind::kStopped, 0, "test"});
  const VmEnd end = vmm->join();
  EXPECT_LT(Clock::now() - stop_at, 1s);
  EXPECT_EQ(end.kind, VmEnd::Kind::kStopped);
}

TEST(VmmControl, SpinningVcpusPauseAndStopWithinASecond) {
  TILEHV_REQUIRE_KVM();
  vdevices::RingSink sink(4096);
  auto vmm = boot("spin", 8, sink);
  ASSERT_TRUE(vmm);
  ASSERT_TRUE(wait_for_output(sink, 10, 5s));
  std::this_thread::sleep_for(200ms);  // every vCPU is in its exit-free loop now
  const auto paused_at = Clock::now();
  ASSERT_TRUE(vmm->pause(1s));
  EXPECT_LT(Clock::now() - paused_at, 1s);
  vmm->resume();
  std::this_thread::sleep_for(50ms);
  const auto stop_at = Clock::now();
  vmm->stop({VmEnd::Kind::kStopped, 0, {}});
  vmm->join();
  EXPECT_LT(Clock::now() - stop_at, 1s);
}

TEST(VmmControl, HaltedVcpusStop) {
  TILEHV_REQUIRE_KVM();
  vdevices::RingSink sink(4096);
  auto vmm = boot("halt", 4, sink);
  ASSERT_TRUE(vmm);
  ASSERT_TRUE(wait_for_output(sink, 10, 5s));
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(vmm->pause(1s)) << "vCPUs blocked in HLT inside KVM must still park";
  const auto stop_at = Clock::now();
  vmm->stop({VmEnd::Kind::kStopped, 0, {}});
  vmm->join();
  EXPECT_LT(Clock::now() - stop_at, 1s);
}

TEST(VmmControl, GuestExitEndsTheVmOnItsOwn) {
  TILEHV_REQUIRE_KVM();
  vdevices::RingSink sink(4096);
  VmmConfig config;
  config.kernel_path = testing::guest_kernel("exit-status");
  config.cmdline = "status=17";
  config.vcpus = 2;
  config.console = &sink;
  auto vmm = Vmm::create(config);
  ASSERT_TRUE(vmm) << vmm.error().message;
  ASSERT_TRUE((*vmm)->start());
  const auto end = (*vmm)->wait_for_end(10s);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->kind, VmEnd::Kind::kGuestExit);
  EXPECT_EQ(end->guest_value, 17U);
  EXPECT_EQ(exit_status_for((*vmm)->join()), 17);
  EXPECT_FALSE((*vmm)->pause(100ms)) << "an ended VM cannot be paused";
}

TEST(VmmControl, RunOnThisThreadNeedsExactlyOneVcpu) {
  TILEHV_REQUIRE_KVM();
  vdevices::RingSink sink(4096);
  VmmConfig config;
  config.kernel_path = testing::guest_kernel("exit-status");
  config.vcpus = 2;
  config.console = &sink;
  auto vmm = Vmm::create(config);
  ASSERT_TRUE(vmm) << vmm.error().message;
  const VmEnd end = (*vmm)->run_on_this_thread();
  EXPECT_EQ(end.kind, VmEnd::Kind::kVcpuFailure);
  EXPECT_NE(end.detail.find("exactly one vCPU"), std::string::npos) << end.detail;
}

// The console ring keeps the newest bytes and never grows, however much the guest writes.
TEST(VmmControl, FloodingGuestDoesNotGrowTheVmm) {
  TILEHV_REQUIRE_KVM();
  // Small enough that the guest overwrites it many times over even where each byte costs an
  // emulated exit (tens of KB/s).
  constexpr std::size_t kRing = 4 * 1024;
  vdevices::RingSink sink(kRing);
  auto vmm = boot("flood", 2, sink);
  ASSERT_TRUE(vmm);
  ASSERT_TRUE(wait_for_output(sink, 4 * kRing, 60s));
  const std::uint64_t rss_before = resident_kib();
  const std::uint64_t bytes_before = sink.total_bytes();
  ASSERT_TRUE(wait_for_output(sink, bytes_before + 32 * kRing, 60s));
  const std::uint64_t rss_after = resident_kib();
  vmm->stop({VmEnd::Kind::kStopped, 0, {}});
  vmm->join();
  const std::string kept = sink.contents();
  EXPECT_EQ(kept.size(), kRing);
  // The newest complete line is a flood line with a counter (the stop may cut the line after it).
  const auto end_of_line = kept.rfind('\n');
  ASSERT_NE(end_of_line, std::string::npos);
  const auto start_of_line = kept.rfind('\n', end_of_line - 1);
  ASSERT_NE(start_of_line, std::string::npos);
  EXPECT_EQ(kept.compare(start_of_line + 1, 6, "flood "), 0) << kept.substr(start_of_line);
  // 128 KiB more console output must not cost the VMM more than allocator noise.
  EXPECT_LT(rss_after, rss_before + 1024) << "RSS grew from " << rss_before << " to " << rss_after << " KiB";
}

}  // namespace
}  // namespace tilehv::vmm
