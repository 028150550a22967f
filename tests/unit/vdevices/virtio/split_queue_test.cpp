// Tests for SplitQueue: chains popped from real guest memory, and everything a hostile driver can do
// to a split virtqueue refused with the problem named.
#include "virtio/split_queue.hpp"

#include <gtest/gtest.h>

#include "support/virtq_driver.hpp"

namespace tilehv::vdevices::virtio {
namespace {

using memory::GuestMemory;
using testing::DriverBuffer;
using testing::VirtqDriver;

constexpr std::uint64_t kBuf = VirtqDriver::kBuffers;
constexpr std::uint16_t kDescNext = 1, kDescWrite = 2, kDescIndirect = 4;

class SplitQueueTest : public ::testing::Test {
 protected:
  SplitQueueTest() : memory_(*GuestMemory::create(16 * memory::kMiB)), driver_(memory_, 16) {}

  SplitQueue queue(QueueFeatures features = {}) {
    auto q = SplitQueue::create(driver_.layout(), memory_, features);
    EXPECT_TRUE(q) << q.error().message;
    return std::move(*q);
  }
  // Pops expecting a refusal with `code` whose message contains `needle`.
  static void expect_refused(SplitQueue& q, QueueErrc code, const std::string& needle) {
    auto r = q.pop();
    ASSERT_FALSE(r) << "a hostile queue was accepted";
    EXPECT_EQ(r.error().code, code) << r.error().message;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  }

  GuestMemory memory_;
  VirtqDriver driver_;
};

TEST_F(SplitQueueTest, PopsReadableThenWritableBuffers) {
  auto q = queue();
  driver_.add_chain({{kBuf, 100, false}, {kBuf + 0x1000, 20, false}, {kBuf + 0x2000, 512, true}}, 3);
  auto chain = q.pop();
  ASSERT_TRUE(chain) << chain.error().message;
  ASSERT_TRUE(chain->has_value());
  EXPECT_EQ((*chain)->head, 3);
  ASSERT_EQ((*chain)->buffers.size(), 3U);
  EXPECT_EQ((*chain)->readable_bytes, 120U);
  EXPECT_EQ((*chain)->writable_bytes, 512U);
  EXPECT_TRUE((*chain)->buffers[2].device_writable);
  EXPECT_EQ((*chain)->buffers[1].address, kBuf + 0x1000);
  auto none = q.pop();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value()) << "nothing more was made available";
}

TEST_F(SplitQueueTest, PushUsedPublishesElementThenIndex) {
  auto q = queue();
  driver_.add_chain({{kBuf, 8, true}}, 5);
  ASSERT_TRUE(q.pop());
  ASSERT_TRUE(q.push_used(5, 8));
  EXPECT_EQ(driver_.used_index(), 1);
  EXPECT_EQ(driver_.used_element(0), (std::pair<std::uint32_t, std::uint32_t>{5, 8}));
  EXPECT_FALSE(q.push_used(16, 0)) << "a head beyond the queue is a device bug, refused";
}

TEST_F(SplitQueueTest, IndicesWrapAround) {
  auto q = queue();
  for (int i = 0; i < 70000; ++i) {
    driver_.add_chain({{kBuf, 4, false}}, static_cast<std::uint16_t>(i % 16));
    auto chain = q.pop();
    ASSERT_TRUE(chain && chain->has_value()) << i;
    ASSERT_TRUE(q.push_used((*chain)->head, 0));
  }
  EXPECT_EQ(driver_.used_index(), static_cast<std::uint16_t>(70000));
  EXPECT_EQ(q.in_flight(), 0);
}

TEST_F(SplitQueueTest, RefusesAvailableIndexJumpingPastTheQueue) {
  auto q = queue();
  driver_.set_avail_index(17);
  expect_refused(q, QueueErrc::kAvailIndexJump, "available index moved from 0 to 17: 17 new buffers in a queue of 16");
}

TEST_F(SplitQueueTest, RefusesWrappedIndexTrick) {
  auto q = queue();
  driver_.set_avail_index(0xffff);  // "minus one": 65535 new buffers
  expect_refused(q, QueueErrc::kAvailIndexJump, "65535 new buffers");
}

TEST_F(SplitQueueTest, RefusesHeadBeyondTheTable) {
  auto q = queue();
  driver_.make_available(16);
  expect_refused(q, QueueErrc::kHeadOutOfRange, "names descriptor 16 of a queue of 16");
}

TEST_F(SplitQueueTest, RefusesNextBeyondTheTable) {
  auto q = queue();
  driver_.write_descriptor(0, kBuf, 8, kDescNext, 40);
  driver_.make_available(0);
  expect_refused(q, QueueErrc::kNextOutOfRange, "descriptor 0 continues to 40, beyond its table of 16");
}

TEST_F(SplitQueueTest, RefusesLoops) {
  auto q = queue();
  driver_.write_descriptor(0, kBuf, 8, kDescNext, 1);
  driver_.write_descriptor(1, kBuf, 8, kDescNext, 0);
  driver_.make_available(0);
  expect_refused(q, QueueErrc::kChainTooLong, "longer than its descriptor table of 16 descriptors");
}

TEST_F(SplitQueueTest, SelfLoopIsALoop) {
  auto q = queue();
  driver_.write_descriptor(7, kBuf, 8, kDescNext, 7);
  driver_.make_available(7);
  expect_refused(q, QueueErrc::kChainTooLong, "a loop?");
}

TEST_F(SplitQueueTest, AcceptsAChainAsLongAsTheQueue) {
  auto q = queue();
  std::vector<DriverBuffer> all;
  for (int i = 0; i < 16; ++i) all.push_back({kBuf + 0x100ULL * static_cast<unsigned>(i), 16, false});
  driver_.add_chain(all, 0);
  auto chain = q.pop();
  ASSERT_TRUE(chain) << chain.error().message;
  EXPECT_EQ((*chain)->buffers.size(), 16U);
}

TEST_F(SplitQueueTest, RefusesBuffersOutsideRam) {
  auto q = queue();
  driver_.add_chain({{16 * memory::kMiB - 4, 8, false}}, 0);
  expect_refused(q, QueueErrc::kBufferOutsideRam, "descriptor 0 buffer [0xfffffc, +0x8) is not inside guest RAM");
}

TEST_F(SplitQueueTest, RefusesBufferAddressOverflow) {
  auto q = queue();
  driver_.add_chain({{0xffff'ffff'ffff'fff0ULL, 0x20, true}}, 0);
  expect_refused(q, QueueErrc::kBufferOutsideRam, "is not inside guest RAM");
}

TEST_F(SplitQueueTest, RefusesReadableAfterWritable) {
  auto q = queue();
  driver_.add_chain({{kBuf, 8, true}, {kBuf + 64, 8, false}}, 0);
  expect_refused(q, QueueErrc::kReadableAfterWritable, "device-readable descriptor 1 follows a device-writable one");
}

TEST_F(SplitQueueTest, WalksIndirectTables) {
  auto q = queue({.indirect_descriptors = true, .event_index = false});
  constexpr std::uint64_t kTable = 0x300000;
  driver_.write_descriptor(0, kBuf, 32, kDescNext, 1, kTable);
  driver_.write_descriptor(1, kBuf + 0x100, 64, kDescWrite, 0, kTable);
  driver_.write_descriptor(2, kTable, 32, kDescIndirect, 0);
  driver_.make_available(2);
  auto chain = q.pop();
  ASSERT_TRUE(chain) << chain.error().message;
  ASSERT_EQ((*chain)->buffers.size(), 2U);
  EXPECT_EQ((*chain)->head, 2);
  EXPECT_EQ((*chain)->readable_bytes, 32U);
  EXPECT_EQ((*chain)->writable_bytes, 64U);
}

TEST_F(SplitQueueTest, RefusesIndirectWhenNotNegotiated) {
  auto q = queue();
  driver_.write_descriptor(0, 0x300000, 32, kDescIndirect, 0);
  driver_.make_available(0);
  expect_refused(q, QueueErrc::kBadIndirect, "indirect descriptors were not negotiated");
}

TEST_F(SplitQueueTest, RefusesNestedIndirect) {
  auto q = queue({.indirect_descriptors = true, .event_index = false});
  driver_.write_descriptor(0, 0x300000, 16, kDescIndirect, 0, 0x300000);
  driver_.write_descriptor(0, 0x300000, 16, kDescIndirect, 0);
  driver_.make_available(0);
  expect_refused(q, QueueErrc::kBadIndirect, "is itself indirect");
}

TEST_F(SplitQueueTest, RefusesIndirectWithNext) {
  auto q = queue({.indirect_descriptors = true, .event_index = false});
  driver_.write_descriptor(0, 0x300000, 16, kDescIndirect | kDescNext, 1);
  driver_.make_available(0);
  expect_refused(q, QueueErrc::kBadIndirect, "also has NEXT set");
}

TEST_F(SplitQueueTest, RefusesBadIndirectLengths) {
  for (std::uint32_t length : {0U, 17U, 16U * (kMaxIndirectDescriptors + 1)}) {
    SCOPED_TRACE(length);
    GuestMemory memory = *GuestMemory::create(16 * memory::kMiB);
    VirtqDriver driver(memory, 16);
    auto q = *SplitQueue::create(driver.layout(), memory, {.indirect_descriptors = true, .event_index = false});
    driver.write_descriptor(0, 0x300000, length, kDescIndirect, 0);
    driver.make_available(0);
    auto r = q.pop();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, QueueErrc::kBadIndirect);
  }
}

TEST_F(SplitQueueTest, RefusesIndirectTableOutsideRam) {
  auto q = queue({.indirect_descriptors = true, .event_index = false});
  driver_.write_descriptor(0, 16 * memory::kMiB - 16, 64, kDescIndirect, 0);
  driver_.make_available(0);
  expect_refused(q, QueueErrc::kBadIndirect, "indirect table [0xfffff0, +0x40) is not inside guest RAM");
}

TEST_F(SplitQueueTest, RefusesLoopInsideIndirectTable) {
  auto q = queue({.indirect_descriptors = true, .event_index = false});
  constexpr std::uint64_t kTable = 0x300000;
  driver_.write_descriptor(0, kBuf, 8, kDescNext, 1, kTable);
  driver_.write_descriptor(1, kBuf, 8, kDescNext, 0, kTable);
  driver_.write_descriptor(0, kTable, 32, kDescIndirect, 0);
  driver_.make_available(0);
  expect_refused(q, QueueErrc::kChainTooLong, "indirect table of 2 descriptors");
}

TEST_F(SplitQueueTest, RefusesBadLayouts) {
  const QueueLayout good = driver_.layout();
  auto with = [&](auto change) {
    QueueLayout l = good;
    change(l);
    return SplitQueue::create(l, memory_, {});
  };
  EXPECT_FALSE(with([](QueueLayout& l) { l.size = 0; }));
  EXPECT_FALSE(with([](QueueLayout& l) { l.size = 24; }));
  EXPECT_FALSE(with([](QueueLayout& l) { l.descriptor_table += 8; }));
  EXPECT_FALSE(with([](QueueLayout& l) { l.available_ring += 1; }));
  EXPECT_FALSE(with([](QueueLayout& l) { l.used_ring += 2; }));
  auto outside = with([](QueueLayout& l) { l.used_ring = 16 * memory::kMiB - 64; });
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().message.find("used ring [0xffffc0, +0x86) is not inside guest RAM"), std::string::npos)
      << outside.error().message;
}

// The device owns the used index: whatever the guest writes there, the device's count stands.
TEST_F(SplitQueueTest, UsedIndexTamperingDoesNotMoveTheDevice) {
  auto q = queue();
  driver_.add_chain({{kBuf, 8, true}}, 0);
  driver_.add_chain({{kBuf, 8, true}}, 1);
  ASSERT_TRUE(q.pop());
  ASSERT_TRUE(q.push_used(0, 1));
  driver_.tamper_used_index(500);
  ASSERT_TRUE(q.pop());
  ASSERT_TRUE(q.push_used(1, 1));
  EXPECT_EQ(driver_.used_index(), 2);
  EXPECT_EQ(driver_.used_element(1).first, 1U);
}

TEST_F(SplitQueueTest, NoInterruptFlagSuppressesInterrupts) {
  auto q = queue();
  driver_.add_chain({{kBuf, 8, true}}, 0);
  ASSERT_TRUE(q.pop());
  ASSERT_TRUE(q.push_used(0, 8));
  EXPECT_TRUE(*q.needs_interrupt());
  driver_.set_avail_flags(1);
  EXPECT_FALSE(*q.needs_interrupt());
}

TEST_F(SplitQueueTest, EventIndexInterruptsOnlyWhenUsedEventIsPassed) {
  auto q = queue({.indirect_descriptors = false, .event_index = true});
  for (std::uint16_t i = 0; i < 4; ++i) driver_.add_chain({{kBuf, 8, true}}, i);
  driver_.set_used_event(2);  // "interrupt me once the used index passes 2"
  for (std::uint16_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(q.pop());
    ASSERT_TRUE(q.push_used(i, 8));
  }
  EXPECT_TRUE(*q.needs_interrupt()) << "the first check always interrupts";
  ASSERT_TRUE(q.pop());
  ASSERT_TRUE(q.push_used(2, 8));  // used index 3: passes used_event 2
  EXPECT_TRUE(*q.needs_interrupt());
  ASSERT_TRUE(q.pop());
  ASSERT_TRUE(q.push_used(3, 8));  // used index 4: used_event 2 already passed
  EXPECT_FALSE(*q.needs_interrupt());
}

TEST_F(SplitQueueTest, NotificationSuppression) {
  auto plain = queue();
  ASSERT_TRUE(plain.set_notifications(false));
  EXPECT_EQ(driver_.used_flags(), 1);
  ASSERT_TRUE(plain.set_notifications(true));
  EXPECT_EQ(driver_.used_flags(), 0);

  auto q = queue({.indirect_descriptors = false, .event_index = true});
  driver_.add_chain({{kBuf, 8, false}}, 0);
  ASSERT_TRUE(q.pop());
  ASSERT_TRUE(q.set_notifications(true));
  EXPECT_EQ(driver_.avail_event(), 1) << "notify me when you make available past what I have read";
}

// Save mid-traffic, restore into a new queue: nothing lost, nothing popped twice.
TEST_F(SplitQueueTest, SaveAndRestoreMidTraffic) {
  auto q = queue({.indirect_descriptors = true, .event_index = true});
  for (std::uint16_t i = 0; i < 3; ++i) driver_.add_chain({{kBuf + 0x100ULL * i, 8, true}}, i);
  ASSERT_TRUE(q.pop());
  ASSERT_TRUE(q.pop());
  ASSERT_TRUE(q.push_used(0, 8));
  StateWriter out;
  q.save(out);
  const auto bytes = out.take();
  StateReader in(bytes);
  auto restored = SplitQueue::restore(in, memory_);
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_TRUE(in.at_end());
  EXPECT_EQ(restored->in_flight(), 1);
  auto next = restored->pop();
  ASSERT_TRUE(next && next->has_value());
  EXPECT_EQ((*next)->head, 2) << "the third chain, neither the second again nor a skipped one";
  ASSERT_TRUE(restored->push_used(1, 8));
  EXPECT_EQ(driver_.used_index(), 2);
}

TEST_F(SplitQueueTest, RestoreRefusesBadState) {
  auto q = queue();
  StateWriter out;
  q.save(out);
  auto bytes = out.take();
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    std::vector<std::uint8_t> truncated(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    StateReader in(truncated);
    EXPECT_FALSE(SplitQueue::restore(in, memory_)) << "cut at " << cut;
  }
  // More in flight than the queue holds.
  StateWriter bad;
  bad.u16(16), bad.u64(VirtqDriver::kDesc), bad.u64(VirtqDriver::kAvail), bad.u64(VirtqDriver::kUsed);
  bad.boolean(false), bad.boolean(false), bad.u16(40), bad.u16(0), bad.u16(0), bad.boolean(false);
  const auto bad_bytes = bad.take();
  StateReader in(bad_bytes);
  auto r = SplitQueue::restore(in, memory_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("40 buffers in flight in a queue of 16"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace tilehv::vdevices::virtio
