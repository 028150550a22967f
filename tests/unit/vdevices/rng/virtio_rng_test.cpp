// Tests for VirtioRng: bytes delivered per request, the per-request cap, chains without writable
// buffers, and save/restore of an active queue.
#include "rng/virtio_rng.hpp"

#include <gtest/gtest.h>

#include "support/mmio_driver.hpp"
#include "support/virtq_driver.hpp"

namespace tilehv::vdevices {
namespace {

using testing::VirtqDriver;

class NullInterrupt final : public virtio::VirtioInterrupt {
 public:
  void used_buffers() noexcept override { ++used; }
  void config_changed() noexcept override {}
  int used = 0;
};

class VirtioRngTest : public ::testing::Test {
 protected:
  VirtioRngTest() : memory_(*memory::GuestMemory::create(16 * memory::kMiB)), rng_(memory_, entropy_), ring_(memory_, 16) {}

  void activate() {
    virtio::ActiveQueues active;
    active.features = virtio::kFeatureVersion1;
    active.queues.push_back(*virtio::SplitQueue::create(ring_.layout(), memory_, {}));
    active.queue_indices.push_back(0);
    ASSERT_TRUE(rng_.activate(std::move(active), interrupt_));
  }

  memory::GuestMemory memory_;
  SeededEntropy entropy_{7};
  VirtioRng rng_;
  VirtqDriver ring_;
  NullInterrupt interrupt_;
};

TEST_F(VirtioRngTest, CapsBytesPerRequest) {
  activate();
  ring_.add_chain({{VirtqDriver::kBuffers, 1 << 20, true}}, 0);  // a 1 MiB buffer
  ASSERT_TRUE(rng_.notify(0));
  EXPECT_EQ(ring_.used_element(0).second, VirtioRng::kMaxBytesPerRequest);
  EXPECT_EQ(interrupt_.used, 1);
}

TEST_F(VirtioRngTest, ChainWithoutWritableBuffersGetsZeroBytes) {
  activate();
  ring_.add_chain({{VirtqDriver::kBuffers, 64, false}}, 0);
  ASSERT_TRUE(rng_.notify(0));
  EXPECT_EQ(ring_.used_element(0), (std::pair<std::uint32_t, std::uint32_t>{0, 0}));
}

TEST_F(VirtioRngTest, ReportsAMalformedQueue) {
  activate();
  ring_.make_available(99);
  auto r = rng_.notify(0);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("names descriptor 99"), std::string::npos) << r.error();
}

TEST_F(VirtioRngTest, NotifyBeforeActivationDoesNothing) {
  ring_.add_chain({{VirtqDriver::kBuffers, 64, true}}, 0);
  EXPECT_TRUE(rng_.notify(0));
  EXPECT_EQ(ring_.used_index(), 0);
}

TEST_F(VirtioRngTest, SaveAndRestoreMidTrafficLosesAndDuplicatesNothing) {
  activate();
  ring_.add_chain({{VirtqDriver::kBuffers, 8, true}}, 0);
  ASSERT_TRUE(rng_.notify(0));
  const DeviceState saved = rng_.save_state();
  SeededEntropy other_entropy(7);
  VirtioRng restored(memory_, other_entropy);
  ASSERT_TRUE(restored.restore_state(saved));
  ring_.add_chain({{VirtqDriver::kBuffers + 64, 8, true}}, 1);
  ASSERT_TRUE(restored.notify(0));
  EXPECT_EQ(ring_.used_index(), 2) << "the second request served once, the first not again";
  EXPECT_EQ(ring_.used_element(1).first, 1U);
  DeviceState bad = saved;
  bad.payload.push_back(0);
  EXPECT_FALSE(restored.restore_state(bad));
}

}  // namespace
}  // namespace tilehv::vdevices
