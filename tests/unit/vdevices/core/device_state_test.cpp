// Tests for device state: the StateWriter/StateReader payload codec and check_state_header.
#include "core/device_state.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace tilehv::vdevices {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(StateWriterTest, EncodesLittleEndian) {
  StateWriter w;
  w.u8(0xab);
  w.u16(0x1234);
  w.u32(0x89abcdefU);
  w.u64(0x0102030405060708ULL);
  w.boolean(true);
  w.boolean(false);
  EXPECT_EQ(w.take(), (Bytes{0xab, 0x34, 0x12, 0xef, 0xcd, 0xab, 0x89, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02,
                             0x01, 0x01, 0x00}));
}

TEST(StateWriterTest, BlobIsLengthPrefixed) {
  StateWriter w;
  const Bytes data{0xde, 0xad, 0xbe, 0xef, 0x00};
  w.blob(data);
  w.blob(Bytes{});
  EXPECT_EQ(w.take(), (Bytes{0x05, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x00, 0x00, 0x00, 0x00}));
}

TEST(StateCodecTest, RoundTripsEveryFieldType) {
  StateWriter w;
  w.u8(0);
  w.u8(0xff);
  w.u16(0xffff);
  w.u16(0x8001);
  w.u32(0);
  w.u32(0xffffffffU);
  w.u64(std::numeric_limits<std::uint64_t>::max());
  w.u64(0x8000000000000001ULL);
  w.boolean(true);
  w.boolean(false);
  const Bytes blob{1, 2, 3, 4, 5, 6, 7};
  w.blob(blob);
  w.blob(Bytes{});
  w.u8(0x5a);
  const Bytes payload = w.take();

  StateReader r(payload);
  EXPECT_EQ(r.u8().value(), 0);
  EXPECT_EQ(r.u8().value(), 0xff);
  EXPECT_EQ(r.u16().value(), 0xffff);
  EXPECT_EQ(r.u16().value(), 0x8001);
  EXPECT_EQ(r.u32().value(), 0U);
  EXPECT_EQ(r.u32().value(), 0xffffffffU);
  EXPECT_EQ(r.u64().value(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(r.u64().value(), 0x8000000000000001ULL);
  EXPECT_TRUE(r.boolean().value());
  EXPECT_FALSE(r.boolean().value());
  EXPECT_EQ(r.blob(16).value(), blob);
  EXPECT_EQ(r.blob(16).value(), Bytes{});
  EXPECT_FALSE(r.at_end());
  EXPECT_EQ(r.u8().value(), 0x5a);
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.u8().has_value()) << "nothing left";
}

TEST(StateWriterTest, TakeEmptiesTheWriter) {
  StateWriter w;
  w.u32(7);
  EXPECT_EQ(w.take().size(), 4U);
  w.u8(1);
  EXPECT_EQ(w.take(), Bytes{1});
}

TEST(StateReaderTest, EmptyPayloadIsAtEndAndReadsFail) {
  StateReader r(std::span<const std::uint8_t>{});
  EXPECT_TRUE(r.at_end());
  EXPECT_FALSE(r.u8().has_value());
  EXPECT_FALSE(r.u16().has_value());
  EXPECT_FALSE(r.u32().has_value());
  EXPECT_FALSE(r.u64().has_value());
  EXPECT_FALSE(r.boolean().has_value());
  EXPECT_FALSE(r.blob(100).has_value());
}

TEST(StateReaderTest, TruncatedIntegersFail) {
  const Bytes bytes{1, 2, 3, 4, 5, 6, 7};
  const std::span<const std::uint8_t> all(bytes);
  {
    StateReader r(all.first(1));
    const auto v = r.u16();
    ASSERT_FALSE(v.has_value());
    EXPECT_FALSE(v.error().message.empty());
  }
  {
    StateReader r(all.first(3));
    EXPECT_FALSE(r.u32().has_value());
  }
  {
    StateReader r(bytes);
    EXPECT_FALSE(r.u64().has_value()) << "7 bytes are not a u64";
  }
  {
    // A read that fits, then one that does not.
    StateReader r(all.first(5));
    EXPECT_EQ(r.u32().value(), 0x04030201U);
    EXPECT_FALSE(r.u16().has_value());
  }
}

TEST(StateReaderTest, BooleanAboveOneIsRefused) {
  for (std::uint8_t b : {std::uint8_t{2}, std::uint8_t{0x80}, std::uint8_t{0xff}}) {
    const Bytes bytes{b};
    StateReader r(bytes);
    const auto v = r.boolean();
    ASSERT_FALSE(v.has_value()) << int{b};
    EXPECT_NE(v.error().message.find(std::to_string(b)), std::string::npos) << v.error().message;
  }
}

TEST(StateReaderTest, BlobUpToItsMaximumIsAccepted) {
  StateWriter w;
  w.blob(Bytes(8, 0x11));
  const Bytes payload = w.take();
  StateReader r(payload);
  EXPECT_EQ(r.blob(8).value(), Bytes(8, 0x11));
  EXPECT_TRUE(r.at_end());
}

TEST(StateReaderTest, BlobAboveItsMaximumIsRefused) {
  StateWriter w;
  w.blob(Bytes(9, 0x11));
  const Bytes payload = w.take();
  StateReader r(payload);
  const auto v = r.blob(8);
  ASSERT_FALSE(v.has_value());
  EXPECT_FALSE(v.error().message.empty());
}

TEST(StateReaderTest, BlobLongerThanTheRemainingBytesIsRefused) {
  // Claims 10 bytes, carries 3.
  const Bytes payload{10, 0, 0, 0, 'a', 'b', 'c'};
  StateReader r(payload);
  EXPECT_FALSE(r.blob(1024).has_value());
}

TEST(StateReaderTest, HugeBlobLengthIsRefusedWithoutAllocating) {
  const Bytes payload{0xff, 0xff, 0xff, 0xff, 'x'};
  StateReader r(payload);
  EXPECT_FALSE(r.blob(std::numeric_limits<std::size_t>::max()).has_value());
}

TEST(StateReaderTest, BlobWithTruncatedLengthIsRefused) {
  const Bytes payload{4, 0};
  StateReader r(payload);
  EXPECT_FALSE(r.blob(16).has_value());
}

TEST(StateReaderTest, BlobEndingExactlyAtThePayloadEnd) {
  const Bytes payload{0x00, 2, 0, 0, 0, 'h', 'i'};
  StateReader r(payload);
  EXPECT_EQ(r.u8().value(), 0);
  EXPECT_EQ(r.blob(2).value(), (Bytes{'h', 'i'}));
  EXPECT_TRUE(r.at_end());
}

TEST(CheckStateHeaderTest, AcceptsItsKindAtEverySupportedVersion) {
  for (std::uint16_t v = 1; v <= 3; ++v) {
    EXPECT_TRUE(check_state_header(DeviceState{"rtc", v, {}}, "rtc", 3).has_value()) << v;
  }
}

TEST(CheckStateHeaderTest, RefusesAnotherKindNamingBoth) {
  const auto r = check_state_header(DeviceState{"i8042", 1, {}}, "uart16550", 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("i8042"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("uart16550"), std::string::npos) << r.error().message;
}

TEST(CheckStateHeaderTest, KindMustMatchExactly) {
  EXPECT_FALSE(check_state_header(DeviceState{"uart16550x", 1, {}}, "uart16550", 1).has_value());
  EXPECT_FALSE(check_state_header(DeviceState{"uart", 1, {}}, "uart16550", 1).has_value());
  EXPECT_FALSE(check_state_header(DeviceState{"", 1, {}}, "uart16550", 1).has_value());
  EXPECT_FALSE(check_state_header(DeviceState{"UART16550", 1, {}}, "uart16550", 1).has_value());
}

TEST(CheckStateHeaderTest, RefusesVersionZeroAndNewerVersions) {
  for (std::uint16_t v : {std::uint16_t{0}, std::uint16_t{3}, std::uint16_t{0xffff}}) {
    const auto r = check_state_header(DeviceState{"rtc", v, {}}, "rtc", 2);
    ASSERT_FALSE(r.has_value()) << v;
    EXPECT_NE(r.error().message.find(std::to_string(v)), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace tilehv::vdevices
