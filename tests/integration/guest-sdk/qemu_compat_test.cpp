// Integration tests: the SDK's kernels boot unchanged on QEMU microvm and say the same as on tilehv.
// The flags are the ones DEVELOPERS.md documents; QEMU's exit status is (value << 1) | 1.
#include <unistd.h>

#include <regex>

#include <gtest/gtest.h>

#include "../../../guest-sdk/examples/compute/workload.hpp"
#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace tilehv {
namespace {

constexpr const char* kQemu = "/usr/bin/qemu-system-x86_64";

testing::ProcessResult qemu(const std::string& kernel, int vcpus, const std::string& memory, const std::string& cmdline,
                            const std::string& initrd = {}) {
  std::vector<std::string> argv = {kQemu, "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=off", "-enable-kvm",
                                   "-cpu", "host,-arch-capabilities", "-m", memory, "-smp", std::to_string(vcpus),
                                   "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio", "-device",
                                   "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", testing::guest_kernel(kernel),
                                   "-append", cmdline};
  if (!initrd.empty()) argv.insert(argv.end(), {"-initrd", initrd});
  return testing::run_process(argv, testing::with_limit(std::chrono::seconds(120)));
}

testing::ProcessResult tilehv(const std::string& kernel, int vcpus, const std::string& memory,
                              const std::string& cmdline, const std::string& module = {}) {
  std::vector<std::string> argv = {TILEHV_BINARY, "run", "--kernel", testing::guest_kernel(kernel), "--vcpus",
                                   std::to_string(vcpus), "--memory", memory, "--cmdline", cmdline, "--timeout", "100"};
  if (!module.empty()) argv.insert(argv.end(), {"--module", module});
  return testing::run_process(argv, testing::with_limit(std::chrono::seconds(120)));
}

// QEMU's serial output can start with a terminal reset sequence; compare from the kernel's first line.
std::vector<std::string> guest_lines(const testing::ProcessResult& r, const std::string& first) {
  const auto lines = r.out_lines();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find(first) != std::string::npos) {
      std::vector<std::string> out(lines.begin() + static_cast<std::ptrdiff_t>(i), lines.end());
      out[0] = first + lines[i].substr(lines[i].find(first) + first.size());
      for (auto& l : out) {
        if (!l.empty() && l.back() == '\r') l.pop_back();
      }
      return out;
    }
  }
  return {};
}

class QemuCompat : public ::testing::Test {
 protected:
  void SetUp() override {
    TILEHV_REQUIRE_KVM();
    if (::access(kQemu, X_OK) != 0) GTEST_SKIP() << kQemu << " is not installed (scripts/test.sh installs it)";
  }
};

TEST_F(QemuCompat, HelloSaysTheSameOnBoth) {
  testing::TempDir dir;
  const std::string module = dir.write("module", std::string(12345, 'q'));
  const auto q = qemu("hello", 1, "64M", "tile=q", module);
  const auto t = tilehv("hello", 1, "64M", "tile=q", module);
  ASSERT_EQ(q.status, 1) << q.describe();  // exit value 0
  ASSERT_EQ(t.status, 0) << t.describe();
  const auto ql = guest_lines(q, "Hello from tilehv guest");
  const auto tl = guest_lines(t, "Hello from tilehv guest");
  ASSERT_GE(ql.size(), 4U) << q.describe();
  ASSERT_GE(tl.size(), 4U) << t.describe();
  EXPECT_EQ(ql[1], tl[1]) << "command line";
  EXPECT_EQ(ql.back(), tl.back()) << "the module arrives intact on both";
  EXPECT_NE(ql.back().find("size 12345 crc32"), std::string::npos) << ql.back();
}

TEST_F(QemuCompat, ExitStatusUsesTheSamePort) {
  const auto q = qemu("exit-status", 1, "16M", "status=21");
  EXPECT_EQ(q.status, (21 << 1) | 1) << q.describe();
  EXPECT_EQ(guest_lines(q, "exit-status: ").at(0), "exit-status: 21");
}

TEST_F(QemuCompat, SmpBringsUpEveryCpu) {
  for (int vcpus : {1, 4}) {
    const auto q = qemu("smp", vcpus, "64M", "");
    ASSERT_EQ(q.status, 1) << q.describe();
    const auto lines = guest_lines(q, "cpu ");
    ASSERT_FALSE(lines.empty()) << q.describe();
    EXPECT_EQ(lines.back(), "smp: " + std::to_string(vcpus) + "/" + std::to_string(vcpus) + " cpus online");
  }
}

TEST_F(QemuCompat, ComputeChecksumMatchesTilehvAndTheHost) {
  const auto q = qemu("compute", 2, "64M", "iterations=5000");
  const auto t = tilehv("compute", 2, "64M", "iterations=5000");
  ASSERT_EQ(q.status, 1) << q.describe();
  ASSERT_EQ(t.status, 0) << t.describe();
  char expected[64];
  std::snprintf(expected, sizeof expected, "compute: checksum %016llx",
                static_cast<unsigned long long>(compute::run(5000)));
  EXPECT_EQ(guest_lines(q, "compute: ").back(), expected);
  EXPECT_EQ(guest_lines(t, "compute: ").back(), expected);
}

TEST_F(QemuCompat, MemtestPasses) {
  const auto q = qemu("memtest", 2, "16M", "");
  ASSERT_EQ(q.status, 1) << q.describe();
  EXPECT_NE(q.out.find(" MiB ok"), std::string::npos) << q.describe();
}

TEST_F(QemuCompat, ExceptionReportIsTheSame) {
  const auto q = qemu("exception", 1, "16M", "");
  EXPECT_EQ(q.status, (99 << 1) | 1) << q.describe();
  EXPECT_NE(q.out.find("CPU EXCEPTION 6 (#UD invalid opcode)"), std::string::npos) << q.describe();
}

}  // namespace
}  // namespace tilehv
