// Tests for VirtioVsock over a real I/O-plane port: packets both ways, spoofed and malformed packets
// from the guest dropped, data split to fit the guest's buffers, save/restore mid-packet.
#include "vsock/virtio_vsock.hpp"

#include <cstring>
#include <numeric>

#include <gtest/gtest.h>

#include "support/virtq_driver.hpp"

namespace tilehv::vdevices {
namespace {

using testing::VirtqDriver;
namespace vs = vsock;

class CountingInterrupt final : public virtio::VirtioInterrupt {
 public:
  void used_buffers() noexcept override { ++used; }
  void config_changed() noexcept override {}
  int used = 0;
};

constexpr std::uint64_t kTxBuffers = VirtqDriver::kBuffers;
constexpr std::uint64_t kRxBuffers = VirtqDriver::kBuffers + 0x100000;

std::vector<std::uint8_t> packet(std::uint64_t src, std::uint64_t dst, vs::Op op, std::uint32_t payload = 0) {
  vs::PacketHeader h{};
  h.src_cid = src, h.dst_cid = dst, h.src_port = 1000, h.dst_port = 2000;
  h.type = vs::kTypeStream;
  h.op = static_cast<std::uint16_t>(op);
  h.len = payload;
  std::vector<std::uint8_t> p(sizeof h + payload);
  std::memcpy(p.data(), &h, sizeof h);
  std::iota(p.begin() + sizeof h, p.end(), std::uint8_t{0});
  return p;
}

class VirtioVsockTest : public ::testing::Test {
 protected:
  VirtioVsockTest()
      : memory_(*memory::GuestMemory::create(16 * memory::kMiB)),
        created_(*port::PortEndpoint::create(VirtioVsock::kPortConfig)),
        device_port_(*port::PortEndpoint::attach(std::move(created_.device), port::PortSide::kDevice)),
        vsock_(memory_, device_port_, 3),
        rx_(memory_, 16),
        tx_(memory_, 16, 0x4000) {}

  void activate() {
    virtio::ActiveQueues active;
    active.features = virtio::kFeatureVersion1;
    active.queues.push_back(*virtio::SplitQueue::create(rx_.layout(), memory_, {}));
    active.queues.push_back(*virtio::SplitQueue::create(tx_.layout(), memory_, {}));
    active.queue_indices = {0, 1};
    ASSERT_TRUE(vsock_.activate(std::move(active), interrupt_));
  }
  void transmit(const std::vector<std::uint8_t>& p, std::uint16_t slot) {
    const std::uint64_t at = kTxBuffers + 0x20000ULL * slot;
    ASSERT_TRUE(memory_.write(at, p));
    tx_.add_chain({{at, static_cast<std::uint32_t>(p.size()), false}}, slot);
  }
  std::vector<std::uint8_t> plane_receive() {
    std::vector<std::uint8_t> out(plane().max_message());
    auto got = plane().receive(out);
    if (!got || !got->has_value()) return {};
    out.resize(**got);
    return out;
  }
  std::vector<std::uint8_t> guest_packet(std::uint16_t slot) {
    const auto [head, length] = rx_.used_element(slot);
    std::vector<std::uint8_t> p(length);
    (void)memory_.read(kRxBuffers + 0x1000ULL * head, p);
    return p;
  }
  port::PortEndpoint& plane() { return created_.plane; }

  memory::GuestMemory memory_;
  port::PortEndpoint::Created created_;
  port::PortEndpoint device_port_;
  VirtioVsock vsock_;
  VirtqDriver rx_, tx_;
  CountingInterrupt interrupt_;
};

TEST_F(VirtioVsockTest, ConfigHoldsTheGuestCid) {
  std::uint8_t config[8];
  vsock_.read_config(0, config);
  std::uint64_t cid = 0;
  std::memcpy(&cid, config, 8);
  EXPECT_EQ(cid, 3U);
}

TEST_F(VirtioVsockTest, GuestPacketsReachThePortAndBadOnesAreDropped) {
  activate();
  transmit(packet(3, 4, vs::Op::kRequest), 0);
  transmit(packet(9, 4, vs::Op::kRequest), 1);        // spoofed source CID
  transmit(packet(3, 4, vs::Op::kRequest, 5), 2);     // payload on a request
  transmit(packet(3, 4, vs::Op::kRw, 3000), 3);
  ASSERT_TRUE(vsock_.notify(VirtioVsock::kTransmitQueue));
  EXPECT_EQ(plane_receive(), packet(3, 4, vs::Op::kRequest));
  EXPECT_EQ(plane_receive(), packet(3, 4, vs::Op::kRw, 3000));
  EXPECT_TRUE(plane_receive().empty());
  EXPECT_EQ(vsock_.metrics().tx_spoofed.load(), 1U);
  EXPECT_EQ(vsock_.metrics().tx_malformed.load(), 1U);
  EXPECT_EQ(tx_.used_index(), 4);
}

TEST_F(VirtioVsockTest, LargeDataIsSplitAcrossGuestBuffersWithoutLosingBytes) {
  activate();
  for (std::uint16_t i = 0; i < 4; ++i) rx_.add_chain({{kRxBuffers + 0x1000ULL * i, 1044, true}}, i);  // 1000 B payload each
  const auto big = packet(4, 3, vs::Op::kRw, 2500);
  ASSERT_EQ(*plane().send(big), port::PushResult::kPushed);
  ASSERT_TRUE(vsock_.port_ready());
  ASSERT_EQ(rx_.used_index(), 3);
  std::vector<std::uint8_t> payload;
  for (std::uint16_t i = 0; i < 3; ++i) {
    const auto p = guest_packet(i);
    const auto h = vs::read_header(p);
    EXPECT_EQ(h.len, p.size() - vs::kHeaderBytes);
    EXPECT_EQ(h.op, static_cast<std::uint16_t>(vs::Op::kRw));
    payload.insert(payload.end(), p.begin() + vs::kHeaderBytes, p.end());
  }
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), big.begin() + vs::kHeaderBytes, big.end()));
  EXPECT_EQ(vsock_.metrics().rx_split.load(), 2U);
  EXPECT_EQ(vsock_.metrics().rx_packets.load(), 1U);
}

TEST_F(VirtioVsockTest, PacketsForAnotherCidAreNotDelivered) {
  activate();
  rx_.add_chain({{kRxBuffers, 4096, true}}, 0);
  ASSERT_EQ(*plane().send(packet(4, 7, vs::Op::kRequest)), port::PushResult::kPushed);
  ASSERT_TRUE(vsock_.port_ready());
  EXPECT_EQ(rx_.used_index(), 0);
  EXPECT_EQ(vsock_.metrics().rx_dropped.load(), 1U);
}

TEST_F(VirtioVsockTest, SaveRestoreInTheMiddleOfASplitPacketLosesNothing) {
  activate();
  rx_.add_chain({{kRxBuffers, 1044, true}}, 0);
  const auto big = packet(4, 3, vs::Op::kRw, 1800);
  ASSERT_EQ(*plane().send(big), port::PushResult::kPushed);
  ASSERT_TRUE(vsock_.port_ready());
  ASSERT_EQ(rx_.used_index(), 1);  // 1000 bytes delivered, 800 pending in the device
  const DeviceState saved = vsock_.save_state();

  VirtioVsock restored(memory_, device_port_, 3);
  ASSERT_TRUE(restored.restore_state(saved));
  CountingInterrupt interrupt;
  restored.reattach(interrupt);
  rx_.add_chain({{kRxBuffers + 0x1000, 1044, true}}, 1);
  ASSERT_TRUE(restored.notify(VirtioVsock::kReceiveQueue));
  ASSERT_EQ(rx_.used_index(), 2);
  std::vector<std::uint8_t> payload;
  for (std::uint16_t i = 0; i < 2; ++i) {
    const auto p = guest_packet(i);
    payload.insert(payload.end(), p.begin() + vs::kHeaderBytes, p.end());
  }
  EXPECT_EQ(payload.size(), 1800U);
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), big.begin() + vs::kHeaderBytes, big.end()));
  EXPECT_EQ(interrupt.used, 1);
}

TEST_F(VirtioVsockTest, RestoreRefusesAnotherCidOrBrokenState) {
  VirtioVsock other(memory_, device_port_, 4);
  EXPECT_FALSE(other.restore_state(vsock_.save_state()));
  EXPECT_FALSE(vsock_.restore_state(DeviceState{"virtio-vsock", 1, {1, 2}}));
}

}  // namespace
}  // namespace tilehv::vdevices
