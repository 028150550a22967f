// Integration tests: every guest-SDK example boots under `tilehv run` with the expected output and
// status, on 1 to 8 vCPUs and 16 MiB to 1 GiB of memory.
#include <fstream>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "../../../guest-sdk/examples/compute/workload.hpp"
#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "vmm/exit_status.hpp"

namespace tilehv {
namespace {

struct Shape {
  std::uint32_t vcpus;
  std::uint32_t memory_mib;
};

std::string shape_name(const ::testing::TestParamInfo<Shape>& info) {
  return std::to_string(info.param.vcpus) + "vcpu_" + std::to_string(info.param.memory_mib) + "MiB";
}

testing::ProcessResult boot(const std::string& kernel, const Shape& s, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {TILEHV_BINARY, "run", "--kernel", testing::guest_kernel(kernel), "--vcpus",
                                   std::to_string(s.vcpus), "--memory", std::to_string(s.memory_mib) + "M",
                                   "--timeout", "120"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return testing::run_process(argv, testing::with_limit(std::chrono::seconds(180)));
}

std::uint32_t crc32(const std::string& data) {
  std::uint32_t crc = 0xffffffffU;
  for (unsigned char c : data) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320U & (0U - (crc & 1U)));
  }
  return ~crc;
}

// "memory: <ram> MiB ram in <n> ranges, <free> MiB free"
struct MemoryLine {
  std::uint64_t ram_mib = 0, ranges = 0, free_mib = 0;
};
std::optional<MemoryLine> memory_line(const std::string& out) {
  std::smatch m;
  static const std::regex re(R"(memory: (\d+) MiB ram in (\d+) ranges, (\d+) MiB free)");
  if (!std::regex_search(out, m, re)) return std::nullopt;
  return MemoryLine{std::stoull(m[1]), std::stoull(m[2]), std::stoull(m[3])};
}

class ExampleBoot : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override { TILEHV_REQUIRE_KVM(); }
};

TEST_P(ExampleBoot, Hello) {
  const Shape s = GetParam();
  testing::TempDir dir;
  const std::string first = "calibration table v3\n";
  const std::string second(100000, 'x');
  const auto r = boot("hello", s, {"--cmdline", "tile=a role=hello", "--module", dir.write("m0", first), "--module",
                                   dir.write("m1", second)});
  ASSERT_TRUE(r.exited && r.status == 0) << r.describe();
  const auto lines = r.out_lines();
  ASSERT_GE(lines.size(), 5U) << r.describe();
  EXPECT_EQ(lines[0], "Hello from tilehv guest");
  EXPECT_EQ(lines[1], "cmdline: tile=a role=hello");
  const auto mem = memory_line(r.out);
  ASSERT_TRUE(mem) << r.describe();
  // RAM is [0, 0x9fc00) plus [1 MiB, size): one MiB short of the size, rounded down.
  EXPECT_EQ(mem->ram_mib, s.memory_mib - 1);
  EXPECT_EQ(mem->ranges, 2U);
  char expected[128];
  std::snprintf(expected, sizeof expected, "module 0: size %zu crc32 %08x cmdline \"\"", first.size(), crc32(first));
  EXPECT_EQ(lines[3], expected);
  std::snprintf(expected, sizeof expected, "module 1: size %zu crc32 %08x cmdline \"\"", second.size(), crc32(second));
  EXPECT_EQ(lines[4], expected);
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_P(ExampleBoot, ExitStatus) {
  const auto r = boot("exit-status", GetParam(), {"--cmdline", "status=7"});
  ASSERT_TRUE(r.exited) << r.describe();
  EXPECT_EQ(r.status, 7) << r.describe();
  EXPECT_EQ(r.out, "exit-status: 7\n");
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_P(ExampleBoot, Smp) {
  const Shape s = GetParam();
  const auto r = boot("smp", s);
  ASSERT_TRUE(r.exited && r.status == 0) << r.describe();
  std::set<std::uint32_t> indices, apics;
  static const std::regex re(R"(cpu (\d+) apic (\d+) online)");
  for (const auto& line : r.out_lines()) {
    std::smatch m;
    if (std::regex_match(line, m, re)) {
      EXPECT_TRUE(indices.insert(static_cast<std::uint32_t>(std::stoul(m[1]))).second) << line;
      EXPECT_TRUE(apics.insert(static_cast<std::uint32_t>(std::stoul(m[2]))).second) << line;
    }
  }
  EXPECT_EQ(indices.size(), s.vcpus) << r.describe();
  // tilehv numbers APIC ids 0..n-1, one per vCPU.
  for (std::uint32_t i = 0; i < s.vcpus; ++i) {
    EXPECT_TRUE(indices.count(i) == 1 && apics.count(i) == 1) << i << "\n" << r.describe();
  }
  EXPECT_EQ(r.out_lines().back(), "smp: " + std::to_string(s.vcpus) + "/" + std::to_string(s.vcpus) + " cpus online");
}

TEST_P(ExampleBoot, Compute) {
  const auto r = boot("compute", GetParam(), {"--cmdline", "iterations=20000"});
  ASSERT_TRUE(r.exited && r.status == 0) << r.describe();
  // The same workload compiled for the host gives the checksum the guest must print.
  char expected[64];
  std::snprintf(expected, sizeof expected, "compute: checksum %016llx",
                static_cast<unsigned long long>(compute::run(20000)));
  EXPECT_EQ(r.out_lines().back(), expected) << r.describe();
}

TEST_P(ExampleBoot, Memtest) {
  const Shape s = GetParam();
  if (s.memory_mib >= 1024 && s.vcpus != 8) {
    GTEST_SKIP() << "1 GiB memtest on fewer than 8 vCPUs runs in the slow suite (boot_examples_slow_test.cpp)";
  }
  const auto r = boot("memtest", s);
  ASSERT_TRUE(r.exited && r.status == 0) << r.describe();
  std::smatch m;
  static const std::regex testing_re(R"(memtest: testing (\d+) MiB in \d+ ranges on (\d+) cpus)");
  ASSERT_TRUE(std::regex_search(r.out, m, testing_re)) << r.describe();
  const std::uint64_t tested = std::stoull(m[1]);
  EXPECT_EQ(std::stoul(m[2]), s.vcpus) << "every vCPU takes part";
  // All RAM but the image (about 2.5 MiB with its stacks) and the boot data.
  EXPECT_GE(tested, s.memory_mib - 4U);
  EXPECT_LT(tested, s.memory_mib);
  EXPECT_EQ(r.out_lines().back(), "memtest: " + std::to_string(tested) + " MiB ok") << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Shapes, ExampleBoot,
                         ::testing::Values(Shape{1, 16}, Shape{2, 16}, Shape{4, 16}, Shape{8, 16}, Shape{1, 64},
                                           Shape{2, 64}, Shape{4, 64}, Shape{8, 64}, Shape{1, 1024},
                                           Shape{2, 1024}, Shape{4, 1024}, Shape{8, 1024}),
                         shape_name);

TEST(ExampleExitValues, PassThroughAndOutOfRange) {
  TILEHV_REQUIRE_KVM();
  for (int value : {0, 1, 42, 100}) {
    const auto r = boot("exit-status", {1, 16}, {"--cmdline", "status=" + std::to_string(value)});
    ASSERT_TRUE(r.exited) << r.describe();
    EXPECT_EQ(r.status, value) << r.describe();
    EXPECT_TRUE(r.err.empty()) << r.err;
  }
  const auto r = boot("exit-status", {1, 16}, {"--cmdline", "status=101"});
  ASSERT_TRUE(r.exited) << r.describe();
  EXPECT_EQ(r.status, vmm::kExitGuestValueOutOfRange);
  EXPECT_NE(r.err.find("guest exit value 101 is above 100"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tilehv
