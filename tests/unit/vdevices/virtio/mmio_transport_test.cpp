// Tests for MmioTransport: the virtio-mmio v2 register file, status machine, feature negotiation,
// queue setup, interrupts, DEVICE_NEEDS_RESET on a broken queue, and save/restore.
#include "virtio/mmio_transport.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "rng/virtio_rng.hpp"
#include "support/mmio_driver.hpp"
#include "support/virtq_driver.hpp"

namespace tilehv::vdevices::virtio {
namespace {

using testing::MmioDriver;
using testing::RecordingLine;
using testing::VirtqDriver;

constexpr std::uint64_t kFeatures = kFeatureVersion1 | kFeatureIndirectDesc;
constexpr std::uint32_t kNeedsReset = 0x40;

class MmioTransportTest : public ::testing::Test {
 protected:
  MmioTransportTest()
      : memory_(*memory::GuestMemory::create(16 * memory::kMiB)),
        rng_(memory_, entropy_),
        transport_(rng_, memory_, line_),
        driver_(transport_),
        ring_(memory_, 16) {}

  void bring_up() {
    ASSERT_TRUE(driver_.negotiate(kFeatures));
    driver_.setup_queue(0, ring_.layout());
    driver_.driver_ok();
    ASSERT_EQ(driver_.status(), 0xfU) << transport_.last_error();
  }

  memory::GuestMemory memory_;
  SeededEntropy entropy_{42};
  VirtioRng rng_;
  RecordingLine line_;
  MmioTransport transport_;
  MmioDriver driver_;
  VirtqDriver ring_;
};

TEST_F(MmioTransportTest, IdentifiesAsVersion2EntropyDevice) {
  EXPECT_EQ(driver_.read(0x000), 0x74726976U);  // "virt"
  EXPECT_EQ(driver_.read(0x004), 2U);
  EXPECT_EQ(driver_.read(0x008), 4U);
  driver_.write(0x014, 1);
  EXPECT_EQ(driver_.read(0x010), 1U) << "VIRTIO_F_VERSION_1 is bit 32";
  driver_.write(0x030, 0);
  EXPECT_EQ(driver_.read(0x034), VirtioRng::kQueueSize);
  driver_.write(0x030, 1);
  EXPECT_EQ(driver_.read(0x034), 0U) << "no second queue";
}

TEST_F(MmioTransportTest, ServesRequestsAndInterrupts) {
  bring_up();
  ring_.add_chain({{VirtqDriver::kBuffers, 64, true}, {VirtqDriver::kBuffers + 0x1000, 32, true}}, 0);
  driver_.notify(0);
  EXPECT_EQ(ring_.used_index(), 1);
  EXPECT_EQ(ring_.used_element(0), (std::pair<std::uint32_t, std::uint32_t>{0, 96}));
  auto bytes = memory_.slice(VirtqDriver::kBuffers, 64);
  EXPECT_FALSE(std::all_of(bytes->begin(), bytes->end(), [](std::uint8_t b) { return b == 0; }));
  EXPECT_TRUE(line_.level);
  EXPECT_EQ(driver_.interrupt_status(), 1U);
  driver_.ack(1);
  EXPECT_FALSE(line_.level);
  EXPECT_EQ(rng_.metrics().bytes.load(), 96U);
}

TEST_F(MmioTransportTest, SameSeedSameBytes) {
  bring_up();
  ring_.add_chain({{VirtqDriver::kBuffers, 64, true}}, 0);
  driver_.notify(0);
  std::vector<std::uint8_t> first(64);
  ASSERT_TRUE(memory_.read(VirtqDriver::kBuffers, first));
  std::vector<std::uint8_t> expected(64);
  SeededEntropy again(42);
  ASSERT_TRUE(again.fill(expected));
  EXPECT_EQ(first, expected);
}

TEST_F(MmioTransportTest, RefusesFeaturesNotOffered) {
  EXPECT_FALSE(driver_.negotiate(kFeatures | (1ULL << 5)));
  EXPECT_NE(transport_.last_error().find("not a subset"), std::string::npos);
  EXPECT_FALSE(driver_.negotiate(kFeatureIndirectDesc)) << "a modern device requires VERSION_1";
  EXPECT_TRUE(driver_.negotiate(kFeatures));
}

TEST_F(MmioTransportTest, MalformedQueueSetsNeedsResetAndTheDriverCanRecover) {
  bring_up();
  ring_.write_descriptor(0, VirtqDriver::kBuffers, 8, 1, 0);  // a self-loop
  ring_.make_available(0);
  driver_.notify(0);
  EXPECT_NE(driver_.status() & kNeedsReset, 0U);
  EXPECT_EQ(driver_.interrupt_status() & 2, 2U) << "configuration change notification";
  EXPECT_NE(transport_.last_error().find("queue 0: chain from head 0 is longer"), std::string::npos)
      << transport_.last_error();
  EXPECT_EQ(transport_.metrics().resets_needed.load(), 1U);
  // Further notifications do nothing until the driver resets the device.
  driver_.notify(0);
  EXPECT_EQ(transport_.metrics().resets_needed.load(), 1U);
  // Reset and bring up again on fresh rings: the device works.
  ASSERT_TRUE(driver_.negotiate(kFeatures));
  EXPECT_EQ(driver_.status() & kNeedsReset, 0U);
  ring_.write_descriptor(0, VirtqDriver::kBuffers, 8, 2, 0);
  driver_.setup_queue(0, ring_.layout());
  driver_.driver_ok();
  EXPECT_EQ(driver_.status(), 0xfU) << transport_.last_error();
}

TEST_F(MmioTransportTest, BadQueueLayoutAtDriverOkSetsNeedsReset) {
  ASSERT_TRUE(driver_.negotiate(kFeatures));
  auto layout = ring_.layout();
  layout.used_ring = 16 * memory::kMiB - 8;
  driver_.setup_queue(0, layout);
  driver_.driver_ok();
  EXPECT_NE(driver_.status() & kNeedsReset, 0U);
  EXPECT_NE(transport_.last_error().find("used ring"), std::string::npos) << transport_.last_error();
}

TEST_F(MmioTransportTest, QueueSizeAboveTheMaximumIsRefused) {
  ASSERT_TRUE(driver_.negotiate(kFeatures));
  auto layout = ring_.layout();
  layout.size = 1024;
  driver_.setup_queue(0, layout);
  driver_.driver_ok();
  EXPECT_NE(driver_.status() & kNeedsReset, 0U);
  EXPECT_NE(transport_.last_error().find("size 1024 above the maximum 256"), std::string::npos);
}

TEST_F(MmioTransportTest, DriverOkWithoutFeaturesOkIsRefused) {
  driver_.write(0x070, 1);
  driver_.write(0x070, 1 | 2);
  driver_.write(0x070, 1 | 2 | 4);
  EXPECT_NE(driver_.status() & kNeedsReset, 0U);
}

TEST_F(MmioTransportTest, QueueRegistersAreFrozenWhileReady) {
  bring_up();
  driver_.write(0x030, 0);
  driver_.write(0x080, 0x5000);  // would move the descriptor table under the device
  ring_.add_chain({{VirtqDriver::kBuffers, 16, true}}, 1);
  driver_.notify(0);
  EXPECT_EQ(ring_.used_index(), 1) << "the device still uses the table it was given";
}

TEST_F(MmioTransportTest, UnalignedOrNarrowRegisterAccessesReadZero) {
  std::uint8_t byte = 0xff;
  transport_.mmio_read(0x000, {&byte, 1});
  EXPECT_EQ(byte, 0);
  std::uint32_t word = 0xffffffff;
  transport_.mmio_read(0x002, {reinterpret_cast<std::uint8_t*>(&word), 4});
  EXPECT_EQ(word, 0U);
  EXPECT_EQ(transport_.metrics().bad_accesses.load(), 2U);
  std::uint8_t config = 0xff;
  transport_.mmio_read(0x100, {&config, 1});
  EXPECT_EQ(config, 0) << "no configuration space: reads as zero";
}

TEST_F(MmioTransportTest, StatusBitsOnlyAccumulate) {
  ASSERT_TRUE(driver_.negotiate(kFeatures));
  driver_.write(0x070, 1);  // tries to clear DRIVER and FEATURES_OK without a reset
  EXPECT_EQ(driver_.status(), 0xbU);
}

TEST_F(MmioTransportTest, SaveAndRestoreRegisters) {
  bring_up();
  const DeviceState saved = transport_.save_state();
  RecordingLine other_line;
  SeededEntropy other_entropy(1);
  VirtioRng other_rng(memory_, other_entropy);
  MmioTransport restored(other_rng, memory_, other_line);
  ASSERT_TRUE(restored.restore_state(saved));
  EXPECT_EQ(restored.status(), 0xfU);
  EXPECT_EQ(restored.save_state().payload, saved.payload);
  DeviceState truncated = saved;
  truncated.payload.pop_back();
  EXPECT_FALSE(restored.restore_state(truncated));
  DeviceState wrong = saved;
  wrong.kind = "uart16550";
  EXPECT_FALSE(restored.restore_state(wrong));
}

// Two vCPUs at once: one notifies (device lock, then the transport's to raise the interrupt) while the
// other resets and re-initializes (transport lock, then the device's). Neither order may deadlock. Run
// in a child process so that a deadlock fails the test instead of hanging the suite.
TEST_F(MmioTransportTest, NotifyRacingResetDoesNotDeadlock) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::atomic<bool> stop{false};
    std::thread notifier([&] {
      MmioDriver d(transport_);
      while (!stop) {
        ring_.add_chain({{VirtqDriver::kBuffers, 8, true}}, 0);
        d.notify(0);
      }
    });
    MmioDriver d(transport_);
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (std::chrono::steady_clock::now() < end) {
      if (d.negotiate(kFeatures)) {
        d.setup_queue(0, ring_.layout());
        d.driver_ok();
      }
    }
    stop = true;
    notifier.join();
    ::_exit(0);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL() << "notify and reset deadlocked";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace tilehv::vdevices::virtio
