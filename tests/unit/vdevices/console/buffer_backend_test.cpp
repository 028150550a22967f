// Tests for BufferBackend and its ByteRing: bounded in both directions, FIFO across the ring's wrap,
// and wake-ups only from the host side.
#include "console/buffer_backend.hpp"

#include <gtest/gtest.h>

#include "console/event_fd_waker.hpp"
#include "console/sink_backend.hpp"

namespace tilehv::vdevices {
namespace {

class CountingWaker final : public BackendWaker {
 public:
  void wake() noexcept override { ++wakes; }
  int wakes = 0;
};

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(ByteRing, BoundedFifoAcrossTheWrap) {
  console::ByteRing ring(5);
  EXPECT_EQ(ring.push(bytes("abc")), 3U);
  std::uint8_t out[8];
  EXPECT_EQ(ring.pop({out, 2}), 2U);
  EXPECT_EQ(ring.push(bytes("defgh")), 4U) << "only the room left";
  EXPECT_EQ(ring.size(), 5U);
  EXPECT_EQ(ring.room(), 0U);
  EXPECT_EQ(ring.pop(out), 5U);
  EXPECT_EQ(std::string(out, out + 5), "cdefg");
  EXPECT_EQ(ring.pop(out), 0U);
}

TEST(BufferBackend, BoundedBothWays) {
  BufferBackend b(4);
  EXPECT_EQ(b.send("abcdef"), 4U);
  EXPECT_EQ(b.pending_to_guest(), 4U);
  std::uint8_t out[8];
  EXPECT_EQ(b.read(out), 4U);
  EXPECT_EQ(std::string(out, out + 4), "abcd");
  EXPECT_EQ(b.write(bytes("123456")), 4U) << "back-pressure: the device offers the rest later";
  EXPECT_EQ(b.pending_from_guest(), 4U);
  EXPECT_EQ(b.receive_all(), "1234");
  EXPECT_EQ(b.write(bytes("56")), 2U);
  EXPECT_EQ(b.receive_all(), "56");
}

TEST(BufferBackend, WakesOnlyFromTheHostSide) {
  CountingWaker waker;
  BufferBackend b(4, &waker);
  EXPECT_EQ(b.send("abcdef"), 4U);
  EXPECT_EQ(waker.wakes, 1) << "bytes for the guest";
  EXPECT_EQ(b.send("x"), 0U);
  EXPECT_EQ(waker.wakes, 1) << "nothing queued, nothing to say";
  std::uint8_t out[8];
  EXPECT_EQ(b.read(out), 4U);
  EXPECT_EQ(b.write({out, 4}), 4U);
  EXPECT_EQ(waker.wakes, 1) << "never from the device's own calls: it holds its lock there";
  EXPECT_EQ(b.receive(out), 4U);
  EXPECT_EQ(waker.wakes, 2) << "room for the guest's bytes";
}

TEST(SinkBackend, ForwardsEverythingAndNeverFeedsTheGuest) {
  RingSink sink(64);
  SinkBackend b(sink);
  EXPECT_EQ(b.write(bytes("boot log")), 8U);
  std::uint8_t out[4];
  EXPECT_EQ(b.read(out), 0U);
  EXPECT_EQ(sink.contents(), "boot log");
}

TEST(EventFdWaker, SignalsTheEventTheWorkerWatches) {
  auto event = util::EventFd::create();
  ASSERT_TRUE(event);
  EventFdWaker waker(*event);
  BufferBackend b(8, &waker);
  b.send("a");
  b.send("b");
  EXPECT_EQ(event->consume(), 2U);
  EXPECT_EQ(event->consume(), 0U);
}

}  // namespace
}  // namespace tilehv::vdevices
