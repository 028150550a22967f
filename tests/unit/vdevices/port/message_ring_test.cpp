// Tests for MessageRing and PortEndpoint: messages across a real shared mapping, wrapping, a full
// ring and its wakeups, and peers that corrupt the shared control block or records.
#include "port/message_ring.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include <gtest/gtest.h>

#include "port/port_endpoint.hpp"

namespace tilehv::vdevices::port {
namespace {

std::vector<std::uint8_t> message_of(std::size_t size, std::uint8_t seed) {
  std::vector<std::uint8_t> m(size);
  std::iota(m.begin(), m.end(), seed);
  return m;
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

class MessageRingTest : public ::testing::Test {
 protected:
  MessageRingTest() : data_(4096) {}
  MessageRing producer() { return MessageRing(control_, data_, 512); }
  MessageRing consumer() { return MessageRing(control_, data_, 512); }
  RingControl control_{};
  std::vector<std::uint8_t> data_;
};

TEST_F(MessageRingTest, CarriesMessagesInOrderAcrossTheWrap) {
  MessageRing tx = producer();
  MessageRing rx = consumer();
  std::vector<std::uint8_t> out(512);
  // 300 messages of varying size pass through a 4 KiB ring: it wraps many times.
  for (int i = 0; i < 300; ++i) {
    const auto m = message_of(static_cast<std::size_t>(i * 7 % 500), static_cast<std::uint8_t>(i));
    ASSERT_EQ(*tx.push(m), PushResult::kPushed);
    auto got = rx.pop(out);
    ASSERT_TRUE(got && got->has_value()) << i;
    ASSERT_EQ(**got, m.size());
    ASSERT_TRUE(std::equal(m.begin(), m.end(), out.begin()));
  }
  EXPECT_FALSE(rx.pop(out)->has_value());
}

TEST_F(MessageRingTest, FullRingRefusesAndAsksForAWakeup) {
  MessageRing tx = producer();
  MessageRing rx = consumer();
  const auto m = message_of(500, 1);
  int pushed = 0;
  while (*tx.push(m) == PushResult::kPushed) ++pushed;
  EXPECT_EQ(pushed, 4096 / 512);
  EXPECT_EQ(control_.producer_waiting, 1U);
  std::vector<std::uint8_t> out(512);
  ASSERT_TRUE(rx.pop(out)->has_value());
  EXPECT_TRUE(rx.producer_needs_wakeup());
  EXPECT_FALSE(rx.producer_needs_wakeup());  // taken once
  EXPECT_EQ(*tx.push(m), PushResult::kPushed);
}

TEST_F(MessageRingTest, SleepingConsumerIsWokenOnlyWhenItSleeps) {
  MessageRing tx = producer();
  MessageRing rx = consumer();
  ASSERT_EQ(*tx.push(message_of(8, 0)), PushResult::kPushed);
  EXPECT_FALSE(tx.consumer_needs_wakeup());
  EXPECT_FALSE(rx.prepare_to_sleep());  // a message is waiting: do not sleep
  std::vector<std::uint8_t> out(512);
  ASSERT_TRUE(rx.pop(out)->has_value());
  EXPECT_TRUE(rx.prepare_to_sleep());
  ASSERT_EQ(*tx.push(message_of(8, 0)), PushResult::kPushed);
  EXPECT_TRUE(tx.consumer_needs_wakeup());
}

TEST_F(MessageRingTest, OversizedMessageIsRefusedByTheProducer) {
  MessageRing tx = producer();
  auto r = tx.push(message_of(513, 0));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("exceeds"), std::string::npos);
}

TEST_F(MessageRingTest, ProducerClaimingMoreThanTheRingIsAnError) {
  MessageRing rx = consumer();
  control_.tail = 4096 + 8;  // more published than the ring holds
  std::vector<std::uint8_t> out(512);
  auto r = rx.pop(out);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("ahead"), std::string::npos);
}

TEST_F(MessageRingTest, RecordLongerThanPublishedIsAnError) {
  MessageRing tx = producer();
  MessageRing rx = consumer();
  ASSERT_EQ(*tx.push(message_of(16, 0)), PushResult::kPushed);
  const std::uint32_t lie = 400;  // the header now claims more than was published
  std::memcpy(data_.data(), &lie, sizeof lie);
  std::vector<std::uint8_t> out(512);
  auto r = rx.pop(out);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("claims 400 bytes"), std::string::npos);
}

TEST_F(MessageRingTest, RecordBeyondTheMaximumIsAnError) {
  MessageRing rx = consumer();
  const std::uint32_t header[2] = {2000, 0};
  std::memcpy(data_.data(), header, sizeof header);
  control_.tail = 2016;
  std::vector<std::uint8_t> out(512);
  EXPECT_FALSE(rx.pop(out));
}

TEST_F(MessageRingTest, WrapMarkerSkippingPastPublishedDataIsAnError) {
  MessageRing rx = consumer();
  const std::uint32_t header[2] = {kWrapMarker, 0};
  std::memcpy(data_.data(), header, sizeof header);
  control_.tail = 8;  // the marker would skip the whole ring
  std::vector<std::uint8_t> out(512);
  EXPECT_FALSE(rx.pop(out));
}

TEST_F(MessageRingTest, MisalignedPositionsFromSharedMemoryAreErrors) {
  // An endpoint attaching to a ring whose positions a peer scribbled over.
  control_.head = 4093;
  control_.tail = 4093 + 16;
  MessageRing rx = consumer();
  std::vector<std::uint8_t> out(512);
  auto r = rx.pop(out);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("aligned"), std::string::npos);
  MessageRing tx = producer();
  EXPECT_FALSE(tx.push(message_of(8, 0)));
}

TEST_F(MessageRingTest, ConsumerMovingBackwardsOrPastTheTailIsAnError) {
  MessageRing tx = producer();
  ASSERT_EQ(*tx.push(message_of(16, 0)), PushResult::kPushed);
  control_.head = 1000;  // beyond what was published
  EXPECT_FALSE(tx.push(message_of(16, 0)));
}

TEST(PortEndpointTest, TwoEndpointsExchangeMessagesAndWakeEachOther) {
  auto created = PortEndpoint::create(PortConfig{});
  ASSERT_TRUE(created) << created.error();
  auto device = PortEndpoint::attach(std::move(created->device), PortSide::kDevice);
  ASSERT_TRUE(device) << device.error();
  PortEndpoint& plane = created->plane;
  std::vector<std::uint8_t> out(plane.max_message());

  EXPECT_TRUE(plane.prepare_to_sleep());
  ASSERT_EQ(*device->send(message_of(60, 3)), PushResult::kPushed);
  EXPECT_TRUE(readable(plane.wake_fd()));  // the plane slept: it was woken
  plane.consume_wake();
  auto got = plane.receive(out);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(**got, 60U);

  ASSERT_EQ(*plane.send(message_of(1514, 9)), PushResult::kPushed);
  EXPECT_FALSE(readable(device->wake_fd()));  // the device never said it sleeps
  got = device->receive(out);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ(**got, 1514U);
  EXPECT_EQ(out[0], 9);
}

TEST(PortEndpointTest, AttachRefusesMemoryThatIsNotSealed) {
  auto created = PortEndpoint::create(PortConfig{});
  ASSERT_TRUE(created);
  PortFds fds = std::move(created->device);
  // Swap in an unsealed copy of the same size.
  util::UniqueFd unsealed(::memfd_create("test", MFD_CLOEXEC));
  ASSERT_EQ(::ftruncate(unsealed.get(), 8192 + 2 * 256 * 1024), 0);
  fds.memory = std::move(unsealed);
  auto attached = PortEndpoint::attach(std::move(fds), PortSide::kDevice);
  ASSERT_FALSE(attached);
  EXPECT_NE(attached.error().find("not sealed"), std::string::npos);
}

TEST(PortEndpointTest, AttachRefusesABadHeader) {
  util::UniqueFd memory(::memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  ASSERT_EQ(::ftruncate(memory.get(), 8192 + 2 * 4096), 0);
  const PortHeader header{0x12345678, kPortVersion, 0, 4096, 512};
  ASSERT_EQ(::pwrite(memory.get(), &header, sizeof header, 0), static_cast<ssize_t>(sizeof header));
  ASSERT_EQ(::fcntl(memory.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);
  auto created = PortEndpoint::create(PortConfig{});
  ASSERT_TRUE(created);
  PortFds fds = std::move(created->device);
  fds.memory = std::move(memory);
  auto attached = PortEndpoint::attach(std::move(fds), PortSide::kDevice);
  ASSERT_FALSE(attached);
  EXPECT_NE(attached.error().find("magic"), std::string::npos);
}

TEST(PortEndpointTest, CreateRefusesImpossibleGeometry) {
  EXPECT_FALSE(PortEndpoint::create(PortConfig{3000, 100}));          // not a power of 2
  EXPECT_FALSE(PortEndpoint::create(PortConfig{4096, 4096}));         // message larger than a quarter
  EXPECT_FALSE(PortEndpoint::create(PortConfig{64U << 20, 65600}));   // beyond the limit
}

}  // namespace
}  // namespace tilehv::vdevices::port
