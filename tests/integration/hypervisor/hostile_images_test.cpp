// Integration tests: `tilehv run` refuses hostile kernel images with one line, a status, no hang.
#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "support/elf_builder.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "vmm/exit_status.hpp"

namespace tilehv {
namespace {

using testing::bootable_spec;
using testing::build_elf;
using testing::ElfSpec;

struct HostileCase {
  std::string name;
  std::function<std::string(const testing::TempDir&)> make;  // returns the kernel path
  std::string expected;  // substring of the single stderr line
  std::vector<std::string> extra_args;
};

std::string elf_file(const testing::TempDir& dir, const std::string& name, const ElfSpec& spec) {
  return dir.write(name, build_elf(spec));
}

ElfSpec with(std::function<void(ElfSpec&)> change) {
  ElfSpec spec = bootable_spec();
  change(spec);
  return spec;
}

std::vector<HostileCase> hostile_cases() {
  std::vector<HostileCase> cases;
  const auto add_spec = [&](std::string name, ElfSpec spec, std::string expected, std::vector<std::string> args = {}) {
    cases.push_back({name, [name, spec](const testing::TempDir& d) { return elf_file(d, name, spec); },
                     std::move(expected), std::move(args)});
  };
  const auto add_bytes = [&](std::string name, std::vector<std::uint8_t> bytes, std::string expected) {
    cases.push_back({name, [name, bytes](const testing::TempDir& d) { return d.write(name, bytes); },
                     std::move(expected), {}});
  };
  add_bytes("empty", {}, "is empty");
  add_bytes("tiny", {0x7f, 'E', 'L'}, "too small to be an ELF image");
  {
    auto truncated = build_elf(bootable_spec());
    truncated.resize(50);
    add_bytes("truncated-header", truncated, "truncated: the ELF header needs 64 bytes");
    auto cut = build_elf(bootable_spec());
    cut.resize(cut.size() - 30);
    add_bytes("truncated-segments", cut, "beyond the end of the file");
  }
  add_bytes("text-file", std::vector<std::uint8_t>(200, 'a'), "not an ELF image");
  add_spec("wrong-class", with([](ElfSpec& s) { s.ident_class = 7; }), "unsupported ELF class 7");
  add_spec("big-endian", with([](ElfSpec& s) { s.ident_data = ELFDATA2MSB; }), "not a little-endian ELF image");
  add_spec("wrong-machine", with([](ElfSpec& s) { s.machine = EM_ARM; }), "ELF machine 40 is not x86-64");
  add_spec("shared-object", with([](ElfSpec& s) { s.type = ET_DYN; }), "not an executable (ET_EXEC)");
  add_spec("phdrs-beyond-file", with([](ElfSpec& s) { s.phoff = 1ULL << 32; }), "program headers at offset 0x100000000");
  add_spec("absurd-phnum", with([](ElfSpec& s) { s.phnum = 60000; }), "60000 program headers, more than the limit of 64");
  add_spec("zero-phnum", with([](ElfSpec& s) { s.phnum = 0; }), "no program headers");
  add_spec("segment-beyond-file", with([](ElfSpec& s) { s.segments[0].file_offset = 1ULL << 33; }),
           "segment 0: file bytes [0x200000000");
  add_spec("filesz-above-memsz", with([](ElfSpec& s) { s.segments[0].memory_size = 2; }),
           "segment 0: file size 0xa exceeds memory size 0x2");
  add_spec("segment-outside-ram", with([](ElfSpec& s) { s.segments[0].guest_address = 0x10000000; s.pvh_entry = 0x10000000; }),
           "segment 0 [0x10000000, 0x1000000a) lies outside guest RAM (16 MiB", {"--memory", "16M"});
  add_spec("segment-in-mmio-hole", with([](ElfSpec& s) { s.segments[0].guest_address = 0xfee00000; s.pvh_entry = 0xfee00000; }),
           "lies outside guest RAM", {"--memory", "4G"});
  add_spec("segments-overlap", with([](ElfSpec& s) {
             testing::ElfSegment other;
             other.guest_address = 0x100008;
             other.bytes = {1, 2, 3, 4};
             s.segments.push_back(other);
           }),
           "segments 0 and 1 overlap");
  add_spec("overlaps-boot-structures", with([](ElfSpec& s) { s.segments[0].guest_address = 0x8000; s.pvh_entry = 0x8000; }),
           "overlaps the boot structures at [0x7000, 0x9000)");
  add_spec("address-overflow", with([](ElfSpec& s) {
             s.segments[0].guest_address = 0xffff'ffff'ffff'fff0ULL;
             s.segments[0].memory_size = 0x100;
           }),
           "overflows");
  add_spec("entry-outside-segments", with([](ElfSpec& s) { s.pvh_entry = 0x300000; }),
           "PVH entry 0x300000 lies outside every loadable segment");
  add_spec("missing-pvh-note", with([](ElfSpec& s) { s.pvh_entry.reset(); }), "no PVH entry note");
  add_spec("malformed-pvh-note",
           with([](ElfSpec& s) { s.raw_note = std::vector<std::uint8_t>{4, 0, 0, 0, 1, 0, 0, 0, 18, 0, 0, 0, 'X', 'e', 'n', 0, 0, 0, 0, 0}; }),
           "malformed PVH entry note");
  add_spec("note-sizes-beyond-segment",
           with([](ElfSpec& s) { s.raw_note = std::vector<std::uint8_t>{0, 0, 0, 0x80, 4, 0, 0, 0, 18, 0, 0, 0}; }),
           "malformed note in segment 1");
  cases.push_back({"directory", [](const testing::TempDir& d) { return d.path().string(); }, "is a directory, not a regular file", {}});
  cases.push_back({"dev-zero", [](const testing::TempDir&) { return std::string("/dev/zero"); }, "is a character device", {}});
  cases.push_back({"sparse-4g",
                   [](const testing::TempDir& d) {
                     const std::string p = (d.path() / "sparse").string();
                     const int fd = ::open(p.c_str(), O_CREAT | O_WRONLY, 0600);
                     if (fd < 0 || ::ftruncate(fd, 4LL << 30) != 0) std::abort();
                     ::close(fd);
                     return p;
                   },
                   "is 4.0 GiB, larger than the 512.0 MiB limit", {}});
  cases.push_back({"missing-file", [](const testing::TempDir& d) { return (d.path() / "nope.elf").string(); },
                   "No such file or directory", {}});
  return cases;
}

class HostileImageTest : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileImageTest, RefusedWithOneLineAndBadImageStatus) {
  const HostileCase& c = GetParam();
  testing::TempDir dir;
  std::vector<std::string> argv = {TILEHV_BINARY, "run", "--kernel", c.make(dir), "--timeout", "5"};
  argv.insert(argv.end(), c.extra_args.begin(), c.extra_args.end());
  const auto r = testing::run_process(argv, testing::with_limit(std::chrono::seconds(10)));
  ASSERT_TRUE(r.exited) << r.describe();
  EXPECT_EQ(r.status, vmm::kExitBadImage) << r.describe();
  const auto lines = r.err_lines();
  ASSERT_EQ(lines.size(), 1U) << r.describe();
  EXPECT_TRUE(lines[0].starts_with("tilehv: error: ")) << lines[0];
  EXPECT_NE(lines[0].find(c.expected), std::string::npos) << "expected '" << c.expected << "' in: " << lines[0];
  EXPECT_TRUE(r.out.empty()) << "nothing may run: " << r.out;
}

INSTANTIATE_TEST_SUITE_P(Corpus, HostileImageTest, ::testing::ValuesIn(hostile_cases()),
                         [](const auto& param_info) {
                           std::string n = param_info.param.name;
                           for (auto& ch : n) if (ch == '-') ch = '_';
                           return n;
                         });

// The builder's images are bootable when left intact: the corpus above breaks one thing each.
TEST(HostileImageBaseline, UntouchedImagesBoot) {
  TILEHV_REQUIRE_KVM();
  testing::TempDir dir;
  for (bool is_64 : {true, false}) {
    const auto path = dir.write(is_64 ? "k64" : "k32", build_elf(bootable_spec(42, is_64)));
    const auto r = testing::run_process({TILEHV_BINARY, "run", "--kernel", path, "--timeout", "5"});
    EXPECT_TRUE(r.exited && r.status == 42) << r.describe();
  }
}

TEST(BadArguments, AreUsageErrorsWithOneLine) {
  testing::TempDir dir;
  const auto kernel = dir.write("k", build_elf(bootable_spec()));
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--vcpus", "0"}, "0 vCPUs requested"},
      {{"--vcpus", "255"}, "255 vCPUs requested"},
      {{"--vcpus", "many"}, "--vcpus"},
      {{"--memory", "3M"}, "between 4 MiB and 1024 GiB"},
      {{"--memory", "12Q"}, "unknown suffix"},
      {{"--console", "tcp:1"}, "is not 'stdout' or 'file:PATH'"},
      {{"--console", "file:/nonexistent/dir/log"}, "cannot open console file"},
      {{"--timeout", "0"}, "greater than 0"},
      {{"--cmdline", std::string(5000, 'x')}, "command line is 5000 bytes"},
      {{"--bogus"}, "bogus"},
  };
  for (const auto& [args, expected] : cases) {
    std::vector<std::string> argv = {TILEHV_BINARY, "run", "--kernel", kernel};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = testing::run_process(argv, testing::with_limit(std::chrono::seconds(10)));
    ASSERT_TRUE(r.exited) << r.describe();
    EXPECT_EQ(r.status, vmm::kExitUsage) << args[0] << ": " << r.describe();
    ASSERT_EQ(r.err_lines().size(), 1U) << r.describe();
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
  }
}

TEST(BadArguments, MissingKernelOption) {
  const auto r = testing::run_process({TILEHV_BINARY, "run"});
  ASSERT_TRUE(r.exited);
  EXPECT_EQ(r.status, vmm::kExitUsage);
  EXPECT_NE(r.err.find("--kernel is required"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tilehv
