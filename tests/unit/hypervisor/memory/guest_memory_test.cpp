// Tests for GuestMemory: memfd-backed guest RAM and its bounds-checked accessor.
#include "memory/guest_memory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <gtest/gtest.h>

namespace tilehv::memory {
namespace {

TEST(GuestMemoryTest, RefusesBadSizes) {
  EXPECT_FALSE(GuestMemory::create(0));
  EXPECT_FALSE(GuestMemory::create(kMinMemorySize - kPageSize));
  EXPECT_FALSE(GuestMemory::create(16 * kMiB + 1));
  EXPECT_FALSE(GuestMemory::create(kMaxMemorySize + kPageSize));
  auto e = GuestMemory::create(123);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().find("must be a multiple of 4 KiB"), std::string::npos);
}

TEST(GuestMemoryTest, IsMemfdBackedAndSealed) {
  auto mem = GuestMemory::create(16 * kMiB);
  ASSERT_TRUE(mem) << mem.error();
  struct stat st {};
  ASSERT_EQ(::fstat(mem->fd(), &st), 0);
  EXPECT_EQ(st.st_size, static_cast<off_t>(16 * kMiB));
  const int seals = ::fcntl(mem->fd(), F_GET_SEALS);
  EXPECT_TRUE((seals & F_SEAL_SHRINK) != 0 && (seals & F_SEAL_GROW) != 0);
  EXPECT_NE(::ftruncate(mem->fd(), 0), 0) << "guest memory must not be shrinkable";
}

TEST(GuestMemoryTest, SliceChecksTheWholeRange) {
  auto mem = GuestMemory::create(16 * kMiB);
  ASSERT_TRUE(mem);
  EXPECT_TRUE(mem->slice(0, 16 * kMiB));
  EXPECT_TRUE(mem->slice(16 * kMiB - 1, 1));
  EXPECT_TRUE(mem->slice(16 * kMiB, 0));
  EXPECT_FALSE(mem->slice(16 * kMiB - 1, 2));
  EXPECT_FALSE(mem->slice(16 * kMiB, 1));
  EXPECT_FALSE(mem->slice(1, 16 * kMiB));
  auto wrap = mem->slice(UINT64_MAX - 4, 16);
  ASSERT_FALSE(wrap);
  EXPECT_EQ(wrap.error().code, MemoryErrc::kOverflow);
  auto huge = mem->slice(8, UINT64_MAX - 8);
  ASSERT_FALSE(huge);
  EXPECT_EQ(huge.error().code, MemoryErrc::kOutOfRange);
  EXPECT_NE(huge.error().describe().find("is not guest RAM"), std::string::npos);
}

TEST(GuestMemoryTest, RangesAroundTheMmioHole) {
  auto mem = GuestMemory::create(4 * kGiB);
  ASSERT_TRUE(mem) << mem.error();
  ASSERT_EQ(mem->regions().size(), 2U);
  EXPECT_TRUE(mem->slice(kMmioHoleStart - 8, 8));
  EXPECT_FALSE(mem->slice(kMmioHoleStart - 8, 9)) << "a range into the hole is not RAM";
  EXPECT_FALSE(mem->slice(kMmioHoleStart, 1));
  EXPECT_FALSE(mem->slice(kMmioHoleEnd - 1, 2));
  EXPECT_TRUE(mem->slice(kMmioHoleEnd, 1 * kGiB));
  EXPECT_FALSE(mem->slice(kMmioHoleEnd, 1 * kGiB + 1));
  EXPECT_FALSE(mem->slice(0, kMmioHoleEnd)) << "a range spanning the hole is refused";
}

TEST(GuestMemoryTest, ReadsBackWhatItWrites) {
  auto mem = GuestMemory::create(4 * kGiB);
  ASSERT_TRUE(mem);
  struct Record {
    std::uint64_t a;
    std::uint32_t b;
  };
  ASSERT_TRUE(mem->write_object(0x1000, Record{0x1122334455667788ULL, 99}));
  ASSERT_TRUE(mem->write_object(kMmioHoleEnd + 0x10, Record{7, 8}));
  auto low = mem->read_object<Record>(0x1000);
  auto high = mem->read_object<Record>(kMmioHoleEnd + 0x10);
  ASSERT_TRUE(low && high);
  EXPECT_EQ(low->a, 0x1122334455667788ULL);
  EXPECT_EQ(low->b, 99U);
  EXPECT_EQ(high->a, 7U);
  // The same bytes are visible through the memfd at the region's file offset.
  std::uint64_t through_fd = 0;
  ASSERT_EQ(::pread(mem->fd(), &through_fd, 8, static_cast<off_t>(kMmioHoleStart + 0x10)), 8);
  EXPECT_EQ(through_fd, 7U);
  EXPECT_FALSE(mem->read_object<Record>(4 * kGiB + kGiB - 4));
}

TEST(GuestMemoryTest, StartsZeroed) {
  auto mem = GuestMemory::create(16 * kMiB);
  ASSERT_TRUE(mem);
  auto all = mem->slice(0, 16 * kMiB);
  ASSERT_TRUE(all);
  EXPECT_TRUE(std::all_of(all->begin(), all->end(), [](std::uint8_t b) { return b == 0; }));
}

}  // namespace
}  // namespace tilehv::memory
