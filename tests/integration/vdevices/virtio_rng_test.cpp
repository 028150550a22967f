// Integration tests for the virtio entropy device: the SDK's rng kernel finds it on the command line
// and reads it over virtio-mmio under tilehv (seeded: bit-exact against the host's computation of the
// same stream) and under QEMU microvm with its own virtio-rng.
#include <unistd.h>

#include <regex>

#include <gtest/gtest.h>

#include "rng/entropy_source.hpp"
#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"

namespace tilehv {
namespace {

std::string rng_hash(const testing::ProcessResult& r) {
  std::smatch m;
  static const std::regex re(R"(rng: device \d+ at 0x[0-9a-f]+ irq \d+: (\d+) requests, (\d+) bytes, fnv1a ([0-9a-f]{16}))");
  return std::regex_search(r.out, m, re) ? m[3].str() : std::string();
}

testing::ProcessResult run_rng(std::vector<std::string> extra) {
  std::vector<std::string> argv = {TILEHV_BINARY, "run", "--kernel", testing::guest_kernel("rng"), "--timeout", "20"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return testing::run_process(argv);
}

TEST(VirtioRng, SeededBytesArriveBitExact) {
  TILEHV_REQUIRE_KVM();
  const auto r = run_rng({"--rng-seed", "5", "--vcpus", "2"});
  ASSERT_TRUE(r.exited && r.status == 0) << r.describe();
  // The same stream on the host: 8 requests of 64 bytes from seed 5.
  vdevices::SeededEntropy source(5);
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (int request = 0; request < 8; ++request) {
    std::uint8_t bytes[64];
    ASSERT_TRUE(source.fill(bytes));
    for (std::uint8_t b : bytes) hash = (hash ^ b) * 0x100000001b3ULL;
  }
  char expected[17];
  std::snprintf(expected, sizeof expected, "%016llx", static_cast<unsigned long long>(hash));
  EXPECT_EQ(rng_hash(r), expected) << r.describe();
  EXPECT_NE(r.out.find("at 0xfeb00000 irq 16: 8 requests, 512 bytes"), std::string::npos) << r.describe();
}

TEST(VirtioRng, HostEntropyDiffersBetweenRuns) {
  TILEHV_REQUIRE_KVM();
  const auto a = run_rng({"--rng"});
  const auto b = run_rng({"--rng"});
  ASSERT_TRUE(a.exited && a.status == 0) << a.describe();
  ASSERT_TRUE(b.exited && b.status == 0) << b.describe();
  EXPECT_NE(rng_hash(a), rng_hash(b));
}

TEST(VirtioRng, NoDeviceIsReportedByTheGuest) {
  TILEHV_REQUIRE_KVM();
  const auto r = run_rng({});
  ASSERT_TRUE(r.exited) << r.describe();
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("rng: no virtio entropy device announced"), std::string::npos) << r.describe();
}

TEST(VirtioRng, SameKernelReadsQemusVirtioRng) {
  TILEHV_REQUIRE_KVM();
  if (::access("/usr/bin/qemu-system-x86_64", X_OK) != 0) GTEST_SKIP() << "QEMU is not installed";
  const auto r = testing::run_process(
      // acpi=off: QEMU then announces virtio-mmio devices on the command line; force-legacy=false: the
      // modern (version 2) interface the SDK speaks.
      {"/usr/bin/qemu-system-x86_64", "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=off,acpi=off", "-global",
       "virtio-mmio.force-legacy=false", "-enable-kvm", "-cpu",
       "host,-arch-capabilities", "-m", "64M", "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio",
       "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-device", "virtio-rng-device", "-kernel",
       testing::guest_kernel("rng")},
      testing::with_limit(std::chrono::seconds(60)));
  EXPECT_EQ(r.status, 1) << r.describe();  // exit value 0
  EXPECT_FALSE(rng_hash(r).empty()) << r.describe();
}

}  // namespace
}  // namespace tilehv
