// Tests for VirtioNet over a real I/O-plane port: frames both ways with exact bytes, the header the
// guest sees, checksum offload, drops of malformed and oversized frames, a full backend, and
// save/restore in the middle of traffic.
#include "net/virtio_net.hpp"

#include <fcntl.h>
#include <sys/mman.h>

#include <cstring>
#include <numeric>

#include <gtest/gtest.h>

#include "net/port_frame_backend.hpp"
#include "support/virtq_driver.hpp"

namespace tilehv::vdevices {
namespace {

using testing::VirtqDriver;

class CountingInterrupt final : public virtio::VirtioInterrupt {
 public:
  void used_buffers() noexcept override { ++used; }
  void config_changed() noexcept override {}
  int used = 0;
};

constexpr std::uint64_t kTxBuffers = VirtqDriver::kBuffers;
constexpr std::uint64_t kRxBuffers = VirtqDriver::kBuffers + 0x100000;
constexpr std::uint64_t kSecondQueue = 0x4000;

std::vector<std::uint8_t> ethernet_frame(std::size_t size, std::uint8_t seed) {
  std::vector<std::uint8_t> f(size);
  std::iota(f.begin(), f.end(), seed);
  const std::uint8_t header[14] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00};
  std::memcpy(f.data(), header, std::min(sizeof header, size));
  return f;
}

class VirtioNetTest : public ::testing::Test {
 protected:
  VirtioNetTest()
      : memory_(*memory::GuestMemory::create(16 * memory::kMiB)),
        created_(*port::PortEndpoint::create(port::PortConfig{16384, 2048})),
        backend_(*port::PortEndpoint::attach(std::move(created_.device), port::PortSide::kDevice), "test"),
        net_(memory_, backend_, VirtioNetConfig{*MacAddress::parse("02:00:00:00:00:01"), 1500}),
        rx_(memory_, 16),
        tx_(memory_, 16, kSecondQueue) {}

  void activate(std::uint64_t features = virtio::kFeatureVersion1 | kNetFeatureMac) {
    virtio::ActiveQueues active;
    active.features = features;
    active.queues.push_back(*virtio::SplitQueue::create(rx_.layout(), memory_, {}));
    active.queues.push_back(*virtio::SplitQueue::create(tx_.layout(), memory_, {}));
    active.queue_indices = {0, 1};
    ASSERT_TRUE(net_.activate(std::move(active), interrupt_));
  }
  // Puts a virtio-net header and `frame` into guest memory at `slot` and makes it available on tx.
  void transmit(const std::vector<std::uint8_t>& frame, std::uint16_t slot, std::uint8_t flags = 0,
                std::uint16_t csum_start = 0, std::uint16_t csum_offset = 0) {
    std::uint8_t header[kNetHeaderBytes] = {flags, 0};
    std::memcpy(header + 6, &csum_start, 2);
    std::memcpy(header + 8, &csum_offset, 2);
    const std::uint64_t at = kTxBuffers + 0x1000ULL * slot;
    ASSERT_TRUE(memory_.write(at, header));
    ASSERT_TRUE(memory_.write(at + kNetHeaderBytes, frame));
    tx_.add_chain({{at, static_cast<std::uint32_t>(kNetHeaderBytes + frame.size()), false}}, slot);
  }
  void post_receive_buffer(std::uint16_t slot, std::uint32_t size = 2048) {
    rx_.add_chain({{kRxBuffers + 0x1000ULL * slot, size, true}}, slot);
  }
  std::vector<std::uint8_t> plane_receive() {
    std::vector<std::uint8_t> out(plane().max_message());
    auto got = plane().receive(out);
    if (!got || !got->has_value()) return {};
    out.resize(**got);
    return out;
  }
  port::PortEndpoint& plane() { return created_.plane; }

  memory::GuestMemory memory_;
  port::PortEndpoint::Created created_;
  PortFrameBackend backend_;
  VirtioNet net_;
  VirtqDriver rx_;
  VirtqDriver tx_;
  CountingInterrupt interrupt_;
};

TEST_F(VirtioNetTest, ConfigurationSpaceHoldsMacStatusAndMtu) {
  std::uint8_t config[12] = {};
  net_.read_config(0, config);
  EXPECT_EQ(config[0], 0x02);
  EXPECT_EQ(config[5], 0x01);
  EXPECT_EQ(config[6], 1);  // link up
  EXPECT_EQ(config[10] | (config[11] << 8), 1500);
  EXPECT_EQ(net_.offered_features() & (1ULL << 15), 0U) << "merged receive buffers are not offered";
}

TEST_F(VirtioNetTest, TransmittedFramesReachThePortExactly) {
  activate();
  const auto f1 = ethernet_frame(60, 1);
  const auto f2 = ethernet_frame(1514, 2);
  transmit(f1, 0);
  transmit(f2, 1);
  ASSERT_TRUE(net_.notify(VirtioNet::kTransmitQueue));
  EXPECT_EQ(plane_receive(), f1);
  EXPECT_EQ(plane_receive(), f2);
  EXPECT_EQ(tx_.used_index(), 2);
  EXPECT_EQ(net_.metrics().tx_frames.load(), 2U);
}

TEST_F(VirtioNetTest, ReceivedFramesReachTheGuestWithAHeader) {
  activate();
  post_receive_buffer(0);
  const auto f = ethernet_frame(200, 7);
  ASSERT_EQ(*plane().send(f), port::PushResult::kPushed);
  ASSERT_TRUE(net_.backend_ready());
  ASSERT_EQ(rx_.used_index(), 1);
  EXPECT_EQ(rx_.used_element(0).second, kNetHeaderBytes + 200);
  std::vector<std::uint8_t> got(kNetHeaderBytes + 200);
  ASSERT_TRUE(memory_.read(kRxBuffers, got));
  EXPECT_EQ(got[10], 1) << "num_buffers";
  EXPECT_TRUE(std::equal(f.begin(), f.end(), got.begin() + kNetHeaderBytes));
  EXPECT_EQ(interrupt_.used, 1);
}

TEST_F(VirtioNetTest, FramesWaitInThePortUntilTheGuestPostsBuffers) {
  activate();
  const auto f = ethernet_frame(100, 3);
  ASSERT_EQ(*plane().send(f), port::PushResult::kPushed);
  ASSERT_TRUE(net_.backend_ready());
  EXPECT_EQ(rx_.used_index(), 0);
  post_receive_buffer(0);
  ASSERT_TRUE(net_.notify(VirtioNet::kReceiveQueue));
  EXPECT_EQ(rx_.used_index(), 1);
  EXPECT_EQ(net_.metrics().rx_frames.load(), 1U);
}

TEST_F(VirtioNetTest, FrameLargerThanTheGuestBufferIsDroppedAndTheBufferKept) {
  activate();
  post_receive_buffer(0, 100);
  ASSERT_EQ(*plane().send(ethernet_frame(500, 1)), port::PushResult::kPushed);
  ASSERT_EQ(*plane().send(ethernet_frame(60, 2)), port::PushResult::kPushed);
  ASSERT_TRUE(net_.backend_ready());
  EXPECT_EQ(net_.metrics().rx_too_big.load(), 1U);
  ASSERT_EQ(rx_.used_index(), 1);
  EXPECT_EQ(rx_.used_element(0).second, kNetHeaderBytes + 60);
}

TEST_F(VirtioNetTest, ChecksumOffloadIsCompletedBeforeTheFrameLeaves) {
  activate(virtio::kFeatureVersion1 | kNetFeatureMac | kNetFeatureCsum);
  // A UDP datagram whose checksum field holds the pseudo-header sum, as Linux leaves it.
  std::vector<std::uint8_t> f = ethernet_frame(14 + 20 + 8 + 4, 0);
  std::fill(f.begin() + 14, f.end(), 0);
  const std::size_t udp = 14 + 20;
  f[udp + 4] = 0, f[udp + 5] = 12;          // UDP length
  f[udp + 8] = 0xde, f[udp + 9] = 0xad, f[udp + 10] = 0xbe, f[udp + 11] = 0xef;
  f[udp + 6] = 0x12, f[udp + 7] = 0x34;     // the partial sum
  transmit(f, 0, kNetHeaderNeedsCsum, static_cast<std::uint16_t>(udp), 6);
  ASSERT_TRUE(net_.notify(VirtioNet::kTransmitQueue));
  const auto sent = plane_receive();
  ASSERT_EQ(sent.size(), f.size());
  // The receiver's check: the pseudo-header sum plus the segment with its checksum gives 0xffff.
  std::uint32_t sum = 0x1234;
  for (std::size_t i = udp; i + 1 < sent.size(); i += 2) sum += static_cast<std::uint32_t>((sent[i] << 8) | sent[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  EXPECT_EQ(sum, 0xffffU);
}

TEST_F(VirtioNetTest, MalformedTransmissionsAreDroppedAndCounted) {
  activate();  // checksum offload not negotiated
  transmit(ethernet_frame(8, 0), 0);                       // shorter than an Ethernet header
  transmit(ethernet_frame(1600, 0), 1);                    // beyond the MTU
  transmit(ethernet_frame(64, 0), 2, kNetHeaderNeedsCsum, 14, 6);  // offload not negotiated
  transmit(ethernet_frame(64, 0), 3);                      // fine
  ASSERT_TRUE(net_.notify(VirtioNet::kTransmitQueue));
  EXPECT_EQ(net_.metrics().tx_malformed.load(), 3U);
  EXPECT_EQ(net_.metrics().tx_frames.load(), 1U);
  EXPECT_EQ(tx_.used_index(), 4) << "every chain goes back to the guest";
}

TEST_F(VirtioNetTest, ChecksumOffsetOutsideTheFrameIsDropped) {
  activate(virtio::kFeatureVersion1 | kNetFeatureCsum);
  transmit(ethernet_frame(64, 0), 0, kNetHeaderNeedsCsum, 60, 10);
  ASSERT_TRUE(net_.notify(VirtioNet::kTransmitQueue));
  EXPECT_EQ(net_.metrics().tx_malformed.load(), 1U);
  EXPECT_TRUE(plane_receive().empty());
}

TEST_F(VirtioNetTest, FullPortHoldsFramesInTheQueueUntilThereIsRoom) {
  activate();
  // A 16 KiB ring holds 10 frames of 1514 bytes; offer 16.
  for (std::uint16_t i = 0; i < 16; ++i) transmit(ethernet_frame(1514, static_cast<std::uint8_t>(i)), i);
  ASSERT_TRUE(net_.notify(VirtioNet::kTransmitQueue));
  const std::uint16_t first = tx_.used_index();
  EXPECT_LT(first, 16);
  EXPECT_GT(net_.metrics().tx_backend_full.load(), 0U);
  EXPECT_EQ(tx_.used_flags(), 1) << "kicks are useless until the port has room: VRING_USED_F_NO_NOTIFY";
  std::vector<std::vector<std::uint8_t>> seen;
  while (true) {
    auto f = plane_receive();
    if (f.empty()) break;
    seen.push_back(f);
  }
  ASSERT_TRUE(net_.backend_ready());  // the plane freed room and woke the device
  while (true) {
    auto f = plane_receive();
    if (f.empty()) break;
    seen.push_back(f);
  }
  ASSERT_EQ(seen.size(), 16U);
  EXPECT_EQ(tx_.used_flags(), 0) << "drained: the driver must kick again for the next frame";
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], ethernet_frame(1514, static_cast<std::uint8_t>(i)));
}

TEST_F(VirtioNetTest, SaveRestoreMidTrafficLosesAndDuplicatesNothing) {
  activate();
  post_receive_buffer(0);
  post_receive_buffer(1);
  transmit(ethernet_frame(64, 1), 0);
  ASSERT_TRUE(net_.notify(VirtioNet::kTransmitQueue));
  ASSERT_EQ(*plane().send(ethernet_frame(70, 9)), port::PushResult::kPushed);
  ASSERT_TRUE(net_.backend_ready());
  const DeviceState saved = net_.save_state();

  // A second device on the same memory and port continues where the first stopped.
  VirtioNet restored(memory_, backend_, net_.config());
  ASSERT_TRUE(restored.restore_state(saved));
  CountingInterrupt interrupt;
  restored.reattach(interrupt);
  transmit(ethernet_frame(64, 2), 1);
  ASSERT_TRUE(restored.notify(VirtioNet::kTransmitQueue));
  ASSERT_EQ(*plane().send(ethernet_frame(80, 10)), port::PushResult::kPushed);
  ASSERT_TRUE(restored.backend_ready());
  EXPECT_EQ(plane_receive(), ethernet_frame(64, 1));
  EXPECT_EQ(plane_receive(), ethernet_frame(64, 2));
  EXPECT_TRUE(plane_receive().empty());
  EXPECT_EQ(tx_.used_index(), 2);
  ASSERT_EQ(rx_.used_index(), 2);
  EXPECT_EQ(rx_.used_element(0).second, kNetHeaderBytes + 70);
  EXPECT_EQ(rx_.used_element(1).second, kNetHeaderBytes + 80);
  EXPECT_GE(interrupt.used, 1);
}

TEST_F(VirtioNetTest, RestoreRefusesForeignOrTruncatedState) {
  EXPECT_FALSE(net_.restore_state(DeviceState{"virtio-rng", 1, {}}));
  EXPECT_FALSE(net_.restore_state(DeviceState{"virtio-net", 1, {1, 2, 3}}));
  EXPECT_FALSE(net_.restore_state(DeviceState{"virtio-net", 2, {}}));
}

TEST(VirtioNetPortTest, CorruptedPortTakesTheLinkDownButTheDeviceKeepsServing) {
  auto memory = *memory::GuestMemory::create(16 * memory::kMiB);
  auto created = *port::PortEndpoint::create(port::PortConfig{16384, 2048});
  // The test keeps its own view of the shared memory to corrupt it as a hostile plane side would.
  util::UniqueFd view_fd(::fcntl(created.device.memory.get(), F_DUPFD_CLOEXEC, 0));
  auto view = *util::Mapping::map(8192 + 2 * 16384, PROT_READ | PROT_WRITE, MAP_SHARED, view_fd.get(), 0);
  PortFrameBackend backend(*port::PortEndpoint::attach(std::move(created.device), port::PortSide::kDevice), "test");
  VirtioNet net(memory, backend, VirtioNetConfig{*MacAddress::parse("02:00:00:00:00:01"), 1500});
  VirtqDriver rx(memory, 16), tx(memory, 16, kSecondQueue);
  virtio::ActiveQueues active;
  active.features = virtio::kFeatureVersion1;
  active.queues.push_back(*virtio::SplitQueue::create(rx.layout(), memory, {}));
  active.queues.push_back(*virtio::SplitQueue::create(tx.layout(), memory, {}));
  active.queue_indices = {0, 1};
  CountingInterrupt interrupt;
  ASSERT_TRUE(net.activate(std::move(active), interrupt));
  rx.add_chain({{kRxBuffers, 2048, true}}, 0);

  // The ring towards the device claims far more bytes than it holds.
  auto* inbound = reinterpret_cast<port::RingControl*>(view.data() + 4096 + sizeof(port::RingControl));
  inbound->tail = 1ULL << 40;
  EXPECT_TRUE(net.backend_ready()) << "a broken backend is not the guest's fault";
  EXPECT_EQ(net.metrics().backend_failures.load(), 1U);
  EXPECT_EQ(rx.used_index(), 0);
  // Transmissions are still taken from the guest (and dropped, as on a cable nobody listens to).
  const auto f = ethernet_frame(64, 0);
  std::vector<std::uint8_t> packet(kNetHeaderBytes);
  packet.insert(packet.end(), f.begin(), f.end());
  ASSERT_TRUE(memory.write(kTxBuffers, packet));
  tx.add_chain({{kTxBuffers, static_cast<std::uint32_t>(packet.size()), false}}, 0);
  ASSERT_TRUE(net.notify(VirtioNet::kTransmitQueue));
  EXPECT_EQ(tx.used_index(), 1);
}

}  // namespace
}  // namespace tilehv::vdevices
