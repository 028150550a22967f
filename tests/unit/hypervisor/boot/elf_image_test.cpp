// Tests for ElfImage: PVH kernel images parsed from hostile files.
#include "boot/elf_image.hpp"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "support/elf_builder.hpp"
#include "support/temp_dir.hpp"

namespace tilehv::boot {
namespace {

using testing::bootable_spec;
using testing::build_elf;
using testing::ElfSpec;

class ElfImageTest : public ::testing::Test {
 protected:
  tl::expected<ElfImage, BootError> parse_bytes(const std::vector<std::uint8_t>& bytes) {
    const std::string path = dir_.write("kernel.elf", bytes);
    auto file = ImageFile::open(path, kMaxKernelImageBytes, "kernel");
    if (!file) return tl::unexpected(file.error());
    return parse_elf_image(*file);
  }
  tl::expected<ElfImage, BootError> parse(const ElfSpec& spec) { return parse_bytes(build_elf(spec)); }

  // Expects a refusal whose one-line message contains `needle`.
  void expect_refused(const ElfSpec& spec, const std::string& needle) {
    expect_refused_bytes(build_elf(spec), needle);
  }
  void expect_refused_bytes(const std::vector<std::uint8_t>& bytes, const std::string& needle) {
    auto r = parse_bytes(bytes);
    ASSERT_FALSE(r.has_value()) << "accepted an image that should fail with: " << needle;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << "message must be one line";
  }

  testing::TempDir dir_;
};

TEST_F(ElfImageTest, ParsesValid64BitImage) {
  auto image = parse(bootable_spec());
  ASSERT_TRUE(image) << image.error().message;
  EXPECT_TRUE(image->is_64bit);
  ASSERT_EQ(image->segments.size(), 1U);
  EXPECT_EQ(image->segments[0].guest_address, 0x100000U);
  EXPECT_TRUE(image->segments[0].executable);
  EXPECT_EQ(image->pvh_entry, 0x100000U);
}

TEST_F(ElfImageTest, ParsesValid32BitImage) {
  auto image = parse(bootable_spec(7, false));
  ASSERT_TRUE(image) << image.error().message;
  EXPECT_FALSE(image->is_64bit);
  EXPECT_EQ(image->pvh_entry, 0x100000U);
}

TEST_F(ElfImageTest, AcceptsEightByteNoteDescriptor) {
  ElfSpec spec = bootable_spec();
  std::vector<std::uint8_t> note = {4, 0, 0, 0, 8, 0, 0, 0, 18, 0, 0, 0, 'X', 'e', 'n', 0, 0, 0, 0x10, 0, 0, 0, 0, 0};
  spec.raw_note = note;
  auto image = parse(spec);
  ASSERT_TRUE(image) << image.error().message;
  EXPECT_EQ(image->pvh_entry, 0x100000U);
}

TEST_F(ElfImageTest, RefusesEmptyFile) { expect_refused_bytes({}, "is empty"); }

TEST_F(ElfImageTest, RefusesFileShorterThanIdent) {
  expect_refused_bytes({0x7f, 'E', 'L', 'F', 2}, "too small to be an ELF image");
}

TEST_F(ElfImageTest, RefusesTruncatedHeader) {
  auto bytes = build_elf(bootable_spec());
  bytes.resize(40);
  expect_refused_bytes(bytes, "truncated: the ELF header needs 64 bytes");
}

TEST_F(ElfImageTest, RefusesTruncatedSegments) {
  auto bytes = build_elf(bootable_spec());
  bytes.resize(bytes.size() - 30);  // cuts into the code segment and the note
  expect_refused_bytes(bytes, "beyond the end of the file");
}

TEST_F(ElfImageTest, RefusesNonElf) {
  std::vector<std::uint8_t> text(100, 'x');
  expect_refused_bytes(text, "not an ELF image");
}

TEST_F(ElfImageTest, RefusesWrongClass) {
  ElfSpec spec = bootable_spec();
  spec.ident_class = 3;
  expect_refused(spec, "unsupported ELF class 3");
}

TEST_F(ElfImageTest, RefusesBigEndian) {
  ElfSpec spec = bootable_spec();
  spec.ident_data = ELFDATA2MSB;
  expect_refused(spec, "not a little-endian ELF image");
}

TEST_F(ElfImageTest, RefusesWrongVersion) {
  ElfSpec spec = bootable_spec();
  spec.ident_version = 9;
  expect_refused(spec, "unsupported ELF version 9");
}

TEST_F(ElfImageTest, RefusesWrongMachine) {
  ElfSpec spec = bootable_spec();
  spec.machine = EM_AARCH64;
  expect_refused(spec, "ELF machine 183 is not x86-64");
}

TEST_F(ElfImageTest, RefusesI386MachineIn64BitClass) {
  ElfSpec spec = bootable_spec();
  spec.machine = EM_386;
  expect_refused(spec, "is not x86-64");
}

TEST_F(ElfImageTest, RefusesSharedObject) {
  ElfSpec spec = bootable_spec();
  spec.type = ET_DYN;
  expect_refused(spec, "is not an executable (ET_EXEC)");
}

TEST_F(ElfImageTest, RefusesWrongProgramHeaderSize) {
  ElfSpec spec = bootable_spec();
  spec.phentsize = 12;
  expect_refused(spec, "program header entry size 12 is not 56");
}

TEST_F(ElfImageTest, RefusesNoProgramHeaders) {
  ElfSpec spec = bootable_spec();
  spec.phnum = 0;
  expect_refused(spec, "no program headers");
}

TEST_F(ElfImageTest, RefusesAbsurdProgramHeaderCount) {
  ElfSpec spec = bootable_spec();
  spec.phnum = 0xffff;
  expect_refused(spec, "65535 program headers, more than the limit of 64");
}

TEST_F(ElfImageTest, RefusesProgramHeadersBeyondFile) {
  ElfSpec spec = bootable_spec();
  spec.phoff = 0x7fff'ffff'ffff'0000ULL;
  expect_refused(spec, "program headers at offset 0x7fffffffffff0000");
}

TEST_F(ElfImageTest, RefusesProgramHeaderTableWrappingAround) {
  ElfSpec spec = bootable_spec();
  spec.phoff = UINT64_MAX - 8;
  expect_refused(spec, "lie beyond the end of the file");
}

TEST_F(ElfImageTest, RefusesSegmentBeyondFile) {
  ElfSpec spec = bootable_spec();
  spec.segments[0].file_offset = 1ULL << 40;
  expect_refused(spec, "segment 0: file bytes [0x10000000000");
}

TEST_F(ElfImageTest, RefusesSegmentFileSizeBeyondFile) {
  ElfSpec spec = bootable_spec();
  spec.segments[0].file_size = 1ULL << 20;
  spec.segments[0].memory_size = 1ULL << 21;
  expect_refused(spec, "beyond the end of the file");
}

TEST_F(ElfImageTest, RefusesFileSizeAboveMemorySize) {
  ElfSpec spec = bootable_spec();
  spec.segments[0].memory_size = 4;
  expect_refused(spec, "segment 0: file size 0xa exceeds memory size 0x4");
}

TEST_F(ElfImageTest, RefusesAddressOverflow) {
  ElfSpec spec = bootable_spec();
  spec.segments[0].guest_address = 0xffff'ffff'ffff'f000ULL;
  spec.segments[0].memory_size = 0x2000;
  expect_refused(spec, "overflows");
}

TEST_F(ElfImageTest, RefusesOverlappingSegments) {
  ElfSpec spec = bootable_spec();
  testing::ElfSegment data;
  data.flags = PF_R | PF_W;
  data.guest_address = 0x100004;
  data.bytes = {1, 2, 3, 4, 5, 6, 7, 8};
  spec.segments.push_back(data);
  expect_refused(spec, "segments 0 and 1 overlap");
}

TEST_F(ElfImageTest, RefusesNoLoadableSegment) {
  ElfSpec spec = bootable_spec();
  spec.segments[0].type = PT_NULL;
  expect_refused(spec, "no loadable segments");
}

TEST_F(ElfImageTest, RefusesMissingPvhNote) {
  ElfSpec spec = bootable_spec();
  spec.pvh_entry.reset();
  expect_refused(spec, "no PVH entry note");
}

TEST_F(ElfImageTest, RefusesNoteOfOtherOwner) {
  ElfSpec spec = bootable_spec();
  spec.raw_note = std::vector<std::uint8_t>{4, 0, 0, 0, 4, 0, 0, 0, 18, 0, 0, 0, 'G', 'N', 'U', 0, 0, 0, 0x10, 0};
  expect_refused(spec, "no PVH entry note");
}

TEST_F(ElfImageTest, RefusesMalformedPvhDescriptorSize) {
  ElfSpec spec = bootable_spec();
  spec.raw_note = std::vector<std::uint8_t>{4, 0, 0, 0, 2, 0, 0, 0, 18, 0, 0, 0, 'X', 'e', 'n', 0, 0, 0, 0, 0};
  expect_refused(spec, "malformed PVH entry note: descriptor of 2 bytes");
}

TEST_F(ElfImageTest, RefusesNoteSizesBeyondSegment) {
  ElfSpec spec = bootable_spec();
  spec.raw_note = std::vector<std::uint8_t>{0xff, 0xff, 0xff, 0xff, 4, 0, 0, 0, 18, 0, 0, 0, 'X', 'e', 'n', 0};
  expect_refused(spec, "malformed note in segment 1");
}

TEST_F(ElfImageTest, RefusesDescriptorSizeWrapping) {
  ElfSpec spec = bootable_spec();
  spec.raw_note = std::vector<std::uint8_t>{4, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 18, 0, 0, 0, 'X', 'e', 'n', 0};
  expect_refused(spec, "malformed note");
}

TEST_F(ElfImageTest, RefusesPvhEntryAbove4GiB) {
  ElfSpec spec = bootable_spec();
  spec.raw_note = std::vector<std::uint8_t>{4, 0, 0, 0, 8, 0, 0, 0, 18, 0, 0, 0, 'X', 'e', 'n', 0, 0, 0, 0, 0, 1, 0, 0, 0};
  expect_refused(spec, "beyond 4 GiB");
}

TEST_F(ElfImageTest, RefusesEntryOutsideEverySegment) {
  ElfSpec spec = bootable_spec();
  spec.pvh_entry = 0x200000;
  expect_refused(spec, "PVH entry 0x200000 lies outside every loadable segment");
}

TEST_F(ElfImageTest, RefusesEntryInZeroFilledMemory) {
  ElfSpec spec = bootable_spec();
  spec.segments[0].memory_size = 0x1000;
  spec.pvh_entry = 0x100800;  // inside memsz, beyond filesz
  expect_refused(spec, "outside every loadable segment");
}

TEST_F(ElfImageTest, RefusesOversizedNoteSegment) {
  ElfSpec spec = bootable_spec();
  std::vector<std::uint8_t> note(kMaxNoteSegmentBytes + 4, 0);
  spec.raw_note = note;
  expect_refused(spec, "more than the limit");
}

TEST(ImageFileTest, RefusesDirectory) {
  auto f = ImageFile::open("/tmp", kMaxKernelImageBytes, "kernel");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, "kernel /tmp is a directory, not a regular file");
}

TEST(ImageFileTest, RefusesCharacterDevice) {
  auto f = ImageFile::open("/dev/zero", kMaxKernelImageBytes, "kernel");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, "kernel /dev/zero is a character device, not a regular file");
}

TEST(ImageFileTest, RefusesFifoWithoutBlocking) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "fifo").string();
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  auto f = ImageFile::open(path, kMaxKernelImageBytes, "module");
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("is a FIFO"), std::string::npos);
}

TEST(ImageFileTest, RefusesMissingFile) {
  auto f = ImageFile::open("/nonexistent/kernel.elf", kMaxKernelImageBytes, "kernel");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, "kernel /nonexistent/kernel.elf: No such file or directory");
}

TEST(ImageFileTest, RefusesHugeSparseFileWithoutReadingIt) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "sparse").string();
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 8LL << 30), 0);  // 8 GiB of holes
  ::close(fd);
  auto f = ImageFile::open(path, kMaxKernelImageBytes, "kernel");
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("is 8.0 GiB, larger than the 512.0 MiB limit"), std::string::npos)
      << f.error().message;
}

TEST(ImageFileTest, ReadAtRefusesRangesBeyondTheFile) {
  testing::TempDir dir;
  const std::string path = dir.write("small", std::string("0123456789"));
  auto f = ImageFile::open(path, 100, "module");
  ASSERT_TRUE(f);
  std::uint8_t buf[4];
  EXPECT_TRUE(f->read_at(6, buf));
  EXPECT_EQ(buf[0], '6');
  EXPECT_FALSE(f->read_at(7, buf));
  EXPECT_FALSE(f->read_at(UINT64_MAX - 1, buf));
}

}  // namespace
}  // namespace tilehv::boot
