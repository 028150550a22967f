// Tests for DeviceBus: registering address ranges and finding the device that holds an access.
#include "bus/device_bus.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace tilehv::bus {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

// The bus is a template over the device type; a plain struct is a real device for it.
struct Device {
  int id = 0;
};

using Bus = DeviceBus<Device>;

TEST(DeviceBusTest, EmptyBusFindsNothing) {
  const Bus bus;
  EXPECT_FALSE(bus.find(0, 1).has_value());
  EXPECT_FALSE(bus.find(0x3f8, 1).has_value());
  EXPECT_FALSE(bus.find(kMax, 1).has_value());
}

TEST(DeviceBusTest, FindsFirstAndLastByteWithTheirOffsets) {
  Bus bus;
  Device uart{1};
  ASSERT_TRUE(bus.add(0x3f8, 8, uart, "uart").has_value());

  const auto first = bus.find(0x3f8, 1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->device, &uart);
  EXPECT_EQ(first->offset, 0U);

  const auto last = bus.find(0x3ff, 1);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->device, &uart);
  EXPECT_EQ(last->offset, 7U);

  EXPECT_FALSE(bus.find(0x3f7, 1).has_value()) << "one below the range";
  EXPECT_FALSE(bus.find(0x400, 1).has_value()) << "one past the range";
}

TEST(DeviceBusTest, WideAccessMustFitInsideTheRange) {
  Bus bus;
  Device d;
  ASSERT_TRUE(bus.add(0x100, 8, d, "dev").has_value());
  EXPECT_TRUE(bus.find(0x100, 8).has_value()) << "the whole range at once";
  EXPECT_TRUE(bus.find(0x104, 4).has_value());
  EXPECT_FALSE(bus.find(0x100, 9).has_value());
  EXPECT_FALSE(bus.find(0x105, 4).has_value()) << "straddles the end";
  EXPECT_FALSE(bus.find(0x107, 2).has_value()) << "straddles the end";
  EXPECT_FALSE(bus.find(0xfe, 4).has_value()) << "starts below the range";
  EXPECT_FALSE(bus.find(0x100, kMax).has_value());
}

TEST(DeviceBusTest, AccessBetweenRangesOrAcrossTwoFindsNothing) {
  Bus bus;
  Device a{1};
  Device b{2};
  Device c{3};
  ASSERT_TRUE(bus.add(0x10, 8, a, "a").has_value());
  ASSERT_TRUE(bus.add(0x18, 8, b, "b").has_value());  // touches a
  ASSERT_TRUE(bus.add(0x40, 4, c, "c").has_value());  // gap before it

  EXPECT_FALSE(bus.find(0x17, 2).has_value()) << "across the a/b boundary";
  EXPECT_FALSE(bus.find(0x14, 8).has_value()) << "across the a/b boundary";
  EXPECT_FALSE(bus.find(0x20, 1).has_value()) << "in the gap";
  EXPECT_FALSE(bus.find(0x3f, 1).has_value()) << "in the gap";
  EXPECT_FALSE(bus.find(0x1e, 4).has_value()) << "from b into the gap";
  EXPECT_FALSE(bus.find(0x3e, 4).has_value()) << "from the gap into c";

  ASSERT_TRUE(bus.find(0x17, 1).has_value());
  EXPECT_EQ(bus.find(0x17, 1)->device, &a);
  ASSERT_TRUE(bus.find(0x18, 1).has_value());
  EXPECT_EQ(bus.find(0x18, 1)->device, &b);
  EXPECT_EQ(bus.find(0x18, 1)->offset, 0U);
}

TEST(DeviceBusTest, TouchingRangesAreAccepted) {
  Bus bus;
  Device a;
  Device b;
  Device c;
  EXPECT_TRUE(bus.add(0x20, 0x10, a, "a").has_value());
  EXPECT_TRUE(bus.add(0x30, 0x10, b, "b").has_value());
  EXPECT_TRUE(bus.add(0x10, 0x10, c, "c").has_value());
  EXPECT_EQ(bus.entries().size(), 3U);
}

TEST(DeviceBusTest, OverlapsAreRefusedNamingBothDevices) {
  Bus bus;
  Device existing;
  Device other;
  ASSERT_TRUE(bus.add(0x100, 0x10, existing, "existing").has_value());
  struct Case {
    std::uint64_t base;
    std::uint64_t length;
  };
  for (const Case c : {Case{0x100, 0x10}, Case{0xf8, 0x10}, Case{0x108, 0x10}, Case{0x104, 2},
                       Case{0x0, 0x1000}, Case{0x10f, 1}, Case{0xff, 2}, Case{0x0, kMax}}) {
    const auto r = bus.add(c.base, c.length, other, "newcomer");
    ASSERT_FALSE(r.has_value()) << std::hex << c.base << "+" << c.length;
    EXPECT_NE(r.error().find("existing"), std::string::npos) << r.error();
    EXPECT_NE(r.error().find("newcomer"), std::string::npos) << r.error();
  }
  ASSERT_EQ(bus.entries().size(), 1U) << "refused ranges are not registered";
  EXPECT_EQ(bus.find(0x100, 1)->device, &existing);
}

TEST(DeviceBusTest, ZeroLengthIsRefused) {
  Bus bus;
  Device d;
  EXPECT_FALSE(bus.add(0x100, 0, d, "empty").has_value());
  EXPECT_FALSE(bus.add(0, 0, d, "empty").has_value());
  EXPECT_TRUE(bus.entries().empty());
}

TEST(DeviceBusTest, WrappingRangesAreRefused) {
  Bus bus;
  Device d;
  EXPECT_FALSE(bus.add(kMax, 2, d, "wraps").has_value());
  EXPECT_FALSE(bus.add(0x1000, kMax, d, "wraps").has_value());
  EXPECT_FALSE(bus.add(kMax - 7, 9, d, "wraps").has_value());
  EXPECT_FALSE(bus.add(2, kMax, d, "wraps").has_value());
  EXPECT_TRUE(bus.entries().empty());
  EXPECT_TRUE(bus.add(1, kMax, d, "ends at the last byte").has_value()) << "[1, 2^64-1] does not wrap";
  EXPECT_TRUE(bus.find(kMax, 1).has_value());
}

TEST(DeviceBusTest, RangesReachingTheTopOfTheAddressSpace) {
  Bus bus;
  Device low;
  Device top;
  ASSERT_TRUE(bus.add(0, kMax, low, "low").has_value()) << "[0, 2^64-2] does not wrap";
  ASSERT_TRUE(bus.add(kMax, 1, top, "top").has_value()) << "the very last byte is free";
  EXPECT_FALSE(bus.add(kMax - 1, 1, top, "dup").has_value());

  const auto last = bus.find(kMax, 1);
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->device, &top);
  EXPECT_EQ(last->offset, 0U);
  EXPECT_FALSE(bus.find(kMax, 2).has_value()) << "an access past 2^64 wraps";
  EXPECT_FALSE(bus.find(kMax, kMax).has_value());

  const auto below = bus.find(kMax - 1, 1);
  ASSERT_TRUE(below.has_value());
  EXPECT_EQ(below->device, &low);
  EXPECT_EQ(below->offset, kMax - 1);
  EXPECT_FALSE(bus.find(kMax - 1, 2).has_value()) << "across low/top";
}

TEST(DeviceBusTest, EntriesStaySortedWithTheirNames) {
  Bus bus;
  Device a;
  Device b;
  Device c;
  ASSERT_TRUE(bus.add(0x60, 5, a, "i8042").has_value());
  ASSERT_TRUE(bus.add(0x3f8, 8, b, "uart").has_value());
  ASSERT_TRUE(bus.add(0xf4, 4, c, "debug-exit").has_value());
  const auto& e = bus.entries();
  ASSERT_EQ(e.size(), 3U);
  EXPECT_EQ(e[0].name, "i8042");
  EXPECT_EQ(e[1].name, "debug-exit");
  EXPECT_EQ(e[2].name, "uart");
  EXPECT_EQ(e[1].base, 0xf4U);
  EXPECT_EQ(e[1].length, 4U);
  EXPECT_EQ(e[1].device, &c);
}

TEST(DeviceBusTest, ManyRangesInRandomOrder) {
  struct Range {
    std::uint64_t base;
    std::uint64_t length;
  };
  std::mt19937_64 rng(20240611);
  std::vector<Range> ranges;
  std::uint64_t next = 0x1000;
  for (int i = 0; i < 300; ++i) {
    const std::uint64_t gap = rng() % 3 == 0 ? 0 : 1 + rng() % 64;  // a third touch their neighbour
    const std::uint64_t length = 1 + rng() % 256;
    ranges.push_back({next + gap, length});
    next += gap + length;
  }
  std::vector<Device> devices(ranges.size());
  std::vector<std::size_t> order(ranges.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);

  Bus bus;
  for (std::size_t i : order) {
    devices[i].id = static_cast<int>(i);
    ASSERT_TRUE(bus.add(ranges[i].base, ranges[i].length, devices[i], "dev" + std::to_string(i)).has_value()) << i;
  }
  ASSERT_EQ(bus.entries().size(), ranges.size());
  EXPECT_TRUE(std::is_sorted(bus.entries().begin(), bus.entries().end(),
                             [](const Bus::Entry& x, const Bus::Entry& y) { return x.base < y.base; }));

  for (std::size_t i = 0; i < ranges.size(); ++i) {
    const Range& r = ranges[i];
    SCOPED_TRACE(i);
    const auto first = bus.find(r.base, 1);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->device, &devices[i]);
    EXPECT_EQ(first->offset, 0U);
    const auto last = bus.find(r.base + r.length - 1, 1);
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->device, &devices[i]);
    EXPECT_EQ(last->offset, r.length - 1);
    const auto whole = bus.find(r.base, r.length);
    ASSERT_TRUE(whole.has_value());
    EXPECT_EQ(whole->device, &devices[i]);
    EXPECT_FALSE(bus.find(r.base, r.length + 1).has_value());
    if (r.base > 0) {
      EXPECT_FALSE(bus.find(r.base - 1, 2).has_value());
    }
    const bool gap_before = i == 0 || ranges[i - 1].base + ranges[i - 1].length < r.base;
    if (gap_before) {
      EXPECT_FALSE(bus.find(r.base - 1, 1).has_value());
    }
  }
  EXPECT_FALSE(bus.find(next, 1).has_value()) << "past the last range";
  EXPECT_FALSE(bus.find(0xfff, 1).has_value()) << "before the first range";

  // Overlapping any registered range is refused, wherever it lands in the sorted order.
  Device intruder;
  for (int i = 0; i < 200; ++i) {
    const Range& r = ranges[rng() % ranges.size()];
    const std::uint64_t inside = r.base + rng() % r.length;
    EXPECT_FALSE(bus.add(inside, 1 + rng() % 512, intruder, "intruder").has_value());
  }
  EXPECT_EQ(bus.entries().size(), ranges.size());
}

}  // namespace
}  // namespace tilehv::bus
