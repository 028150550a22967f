// Tests for the PVH loader: placement of segments and modules, and the hvm_start_info it writes.
#include "boot/pvh_loader.hpp"

#include <xen/xen.h>
#include <xen/arch-x86/hvm/start_info.h>

#include <algorithm>

#include <gtest/gtest.h>

#include "boot/pvh_layout.hpp"
#include "support/elf_builder.hpp"
#include "support/temp_dir.hpp"

namespace tilehv::boot {
namespace {

using memory::GuestMemory;
using memory::kMiB;

class PvhLoaderTest : public ::testing::Test {
 protected:
  struct Prepared {
    ImageFile file;
    ElfImage image;
  };
  Prepared prepare(const testing::ElfSpec& spec) {
    const std::string path = dir_.write("kernel-" + std::to_string(counter_++), testing::build_elf(spec));
    auto file = ImageFile::open(path, kMaxKernelImageBytes, "kernel");
    EXPECT_TRUE(file);
    auto image = parse_elf_image(*file);
    EXPECT_TRUE(image) << image.error().message;
    return {std::move(*file), std::move(*image)};
  }
  ImageFile module(const std::string& name, const std::string& content) {
    auto m = ImageFile::open(dir_.write(name, content), 1ULL << 30, "module");
    EXPECT_TRUE(m);
    return std::move(*m);
  }
  static GuestMemory memory(std::uint64_t size) {
    auto m = GuestMemory::create(size);
    EXPECT_TRUE(m) << m.error();
    return std::move(*m);
  }
  static bool all_zero(const GuestMemory& mem) {
    for (const auto& r : mem.regions()) {
      const auto* p = r.host;
      if (!std::all_of(p, p + std::min<std::uint64_t>(r.ram.size, 4 * kMiB), [](std::uint8_t b) { return b == 0; }))
        return false;
    }
    return true;
  }

  testing::TempDir dir_;
  int counter_ = 0;
};

TEST_F(PvhLoaderTest, WritesStartInfoMemoryMapCommandLineAndModules) {
  auto mem = memory(64 * kMiB);
  auto k = prepare(testing::bootable_spec());
  std::vector<ImageFile> modules;
  modules.push_back(module("m0", "first module"));
  modules.push_back(module("m1", std::string(5000, 'z')));
  auto boot = load_pvh(mem, k.file, k.image, "console=ttyS0 tile=a", modules);
  ASSERT_TRUE(boot) << boot.error().message;
  EXPECT_EQ(boot->entry, 0x100000U);
  EXPECT_EQ(boot->start_info_address, kStartInfoAddress);

  auto info = mem.read_object<hvm_start_info>(kStartInfoAddress);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->magic, XEN_HVM_START_MAGIC_VALUE);
  EXPECT_EQ(info->version, 1U);
  EXPECT_EQ(info->nr_modules, 2U);
  EXPECT_EQ(info->memmap_entries, 2U);

  char cmdline[32] = {};
  ASSERT_TRUE(mem.read(info->cmdline_paddr, {reinterpret_cast<std::uint8_t*>(cmdline), 21}));
  EXPECT_STREQ(cmdline, "console=ttyS0 tile=a");

  auto low = mem.read_object<hvm_memmap_table_entry>(info->memmap_paddr);
  auto high = mem.read_object<hvm_memmap_table_entry>(info->memmap_paddr + sizeof(hvm_memmap_table_entry));
  ASSERT_TRUE(low && high);
  EXPECT_EQ(low->addr, 0U);
  EXPECT_EQ(low->size, memory::kEbdaStart);
  EXPECT_EQ(low->type, 1U);
  EXPECT_EQ(high->addr, memory::kHighMemoryStart);
  EXPECT_EQ(high->addr + high->size, 64 * kMiB);

  auto m0 = mem.read_object<hvm_modlist_entry>(info->modlist_paddr);
  auto m1 = mem.read_object<hvm_modlist_entry>(info->modlist_paddr + sizeof(hvm_modlist_entry));
  ASSERT_TRUE(m0 && m1);
  EXPECT_EQ(m0->size, 12U);
  EXPECT_EQ(m1->size, 5000U);
  EXPECT_EQ(m0->paddr % memory::kPageSize, 0U);
  EXPECT_GE(m0->paddr, 0x100000U + 10);  // after the kernel
  EXPECT_GE(m1->paddr, m0->paddr + m0->size);
  auto bytes = mem.slice(m0->paddr, m0->size);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(std::string(bytes->begin(), bytes->end()), "first module");

  auto code = mem.slice(0x100000, 10);
  ASSERT_TRUE(code);
  EXPECT_TRUE(std::equal(code->begin(), code->end(), testing::exit_code_program(42).begin()));
}

TEST_F(PvhLoaderTest, ReportsRamAboveTheMmioHole) {
  auto mem = memory(4096 * kMiB);
  const auto ram = reported_ram(mem);
  ASSERT_EQ(ram.size(), 3U);
  EXPECT_EQ(ram[1].end(), memory::kMmioHoleStart);
  EXPECT_EQ(ram[2].guest_address, memory::kMmioHoleEnd);
  EXPECT_EQ(ram[2].size, 1024 * kMiB);
}

TEST_F(PvhLoaderTest, RefusesSegmentOutsideRamWithoutWritingAnything) {
  auto mem = memory(16 * kMiB);
  auto spec = testing::bootable_spec();
  testing::ElfSegment far;
  far.guest_address = 0x4000'0000;
  far.bytes = {1, 2, 3};
  spec.segments.push_back(far);
  auto k = prepare(spec);
  auto boot = load_pvh(mem, k.file, k.image, "", {});
  ASSERT_FALSE(boot);
  EXPECT_NE(boot.error().message.find("segment 1 [0x40000000, 0x40000003) lies outside guest RAM (16 MiB"),
            std::string::npos)
      << boot.error().message;
  EXPECT_TRUE(all_zero(mem)) << "a refused image must leave guest memory untouched";
}

TEST_F(PvhLoaderTest, RefusesSegmentInTheLegacyHole) {
  auto mem = memory(16 * kMiB);
  auto spec = testing::bootable_spec();
  spec.segments[0].guest_address = 0xa0000;
  spec.pvh_entry = 0xa0000;
  auto k = prepare(spec);
  auto boot = load_pvh(mem, k.file, k.image, "", {});
  ASSERT_FALSE(boot);
  EXPECT_NE(boot.error().message.find("lies outside guest RAM"), std::string::npos);
}

TEST_F(PvhLoaderTest, RefusesSegmentOverlappingBootStructures) {
  auto mem = memory(16 * kMiB);
  auto spec = testing::bootable_spec();
  spec.segments[0].guest_address = 0x7800;
  spec.pvh_entry = 0x7800;
  auto k = prepare(spec);
  auto boot = load_pvh(mem, k.file, k.image, "", {});
  ASSERT_FALSE(boot);
  EXPECT_NE(boot.error().message.find("overlaps the boot structures at [0x7000, 0x9000)"), std::string::npos)
      << boot.error().message;
}

TEST_F(PvhLoaderTest, RefusesSegmentLargerThanRam) {
  auto mem = memory(16 * kMiB);
  auto spec = testing::bootable_spec();
  spec.segments[0].memory_size = 64 * kMiB;
  auto k = prepare(spec);
  auto boot = load_pvh(mem, k.file, k.image, "", {});
  ASSERT_FALSE(boot);
  EXPECT_NE(boot.error().message.find("lies outside guest RAM"), std::string::npos);
}

TEST_F(PvhLoaderTest, RefusesCommandLineOverTheLimit) {
  auto mem = memory(16 * kMiB);
  auto k = prepare(testing::bootable_spec());
  auto boot = load_pvh(mem, k.file, k.image, std::string(kMaxCmdlineBytes, 'a'), {});
  ASSERT_FALSE(boot);
  EXPECT_EQ(boot.error().code, BootErrc::kBadParameter);
  EXPECT_NE(boot.error().message.find("command line is 4096 bytes, more than the limit of 4095"), std::string::npos);
  EXPECT_TRUE(load_pvh(mem, k.file, k.image, std::string(kMaxCmdlineBytes - 1, 'a'), {}));
}

TEST_F(PvhLoaderTest, RefusesModuleThatDoesNotFit) {
  auto mem = memory(4 * kMiB);
  auto k = prepare(testing::bootable_spec());
  std::vector<ImageFile> modules;
  modules.push_back(module("big", std::string(3 * kMiB + 1, 'b')));
  auto boot = load_pvh(mem, k.file, k.image, "", modules);
  ASSERT_FALSE(boot);
  EXPECT_NE(boot.error().message.find("does not fit in guest RAM"), std::string::npos) << boot.error().message;
}

TEST_F(PvhLoaderTest, RefusesTooManyModules) {
  auto mem = memory(16 * kMiB);
  auto k = prepare(testing::bootable_spec());
  std::vector<ImageFile> modules;
  for (std::uint32_t i = 0; i <= kMaxModules; ++i) modules.push_back(module("m" + std::to_string(i), "x"));
  auto boot = load_pvh(mem, k.file, k.image, "", modules);
  ASSERT_FALSE(boot);
  EXPECT_NE(boot.error().message.find("33 modules, more than the limit of 32"), std::string::npos);
}

TEST_F(PvhLoaderTest, PlacesModuleAboveTheHoleWhenLowRamIsFull) {
  auto mem = memory(3 * 1024 * kMiB + 64 * kMiB);
  auto spec = testing::bootable_spec();
  spec.segments[0].memory_size = 3 * 1024 * kMiB - 2 * kMiB;  // kernel (mostly bss) fills low RAM
  auto k = prepare(spec);
  std::vector<ImageFile> modules;
  modules.push_back(module("m", std::string(2 * kMiB, 'm')));
  auto boot = load_pvh(mem, k.file, k.image, "", modules);
  ASSERT_TRUE(boot) << boot.error().message;
  EXPECT_EQ(boot->modules[0].guest_address, memory::kMmioHoleEnd);
}

}  // namespace
}  // namespace tilehv::boot
