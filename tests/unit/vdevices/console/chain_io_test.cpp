// Tests for the console's chain I/O: gathering and scattering across buffers, delivery to a backend
// that stops taking bytes, and filling from a backend that runs dry.
#include "console/chain_io.hpp"

#include <gtest/gtest.h>

#include "console/buffer_backend.hpp"

namespace tilehv::vdevices::console {
namespace {

class ChainIoTest : public ::testing::Test {
 protected:
  ChainIoTest() : memory_(*memory::GuestMemory::create(4 * memory::kMiB)) {}

  void put(std::uint64_t address, const std::string& text) {
    ASSERT_TRUE(memory_.write(address, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}));
  }
  std::string get(std::uint64_t address, std::size_t n) {
    std::string s(n, '\0');
    EXPECT_TRUE(memory_.read(address, {reinterpret_cast<std::uint8_t*>(s.data()), n}));
    return s;
  }
  static virtio::DescriptorChain chain(std::vector<virtio::Buffer> buffers) {
    virtio::DescriptorChain c;
    for (const auto& b : buffers) (b.device_writable ? c.writable_bytes : c.readable_bytes) += b.length;
    c.buffers = std::move(buffers);
    return c;
  }

  memory::GuestMemory memory_;
};

TEST_F(ChainIoTest, GatherStopsAtTheWritableBuffers) {
  put(0x1000, "abc");
  put(0x2000, "defgh");
  const auto c = chain({{0x1000, 3, false}, {0x2000, 5, false}, {0x3000, 8, true}});
  std::uint8_t out[6] = {};
  ASSERT_EQ(gather(memory_, c, out).value(), 6U);
  EXPECT_EQ(std::string(out, out + 6), "abcdef");
  std::uint8_t big[32] = {};
  EXPECT_EQ(gather(memory_, c, big).value(), 8U) << "never reads the device-writable buffer";
}

TEST_F(ChainIoTest, ScatterSkipsReadableBuffersAndReportsWhatFit) {
  put(0x1000, "keep");
  const auto c = chain({{0x1000, 4, false}, {0x2000, 2, true}, {0x3000, 3, true}});
  const std::string text = "123456";
  EXPECT_EQ(scatter(memory_, c, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}).value(), 5U);
  EXPECT_EQ(get(0x1000, 4), "keep");
  EXPECT_EQ(get(0x2000, 2), "12");
  EXPECT_EQ(get(0x3000, 3), "345");
}

TEST_F(ChainIoTest, DeliveryResumesAtTheOffset) {
  put(0x1000, "01234");
  put(0x2000, "56789");
  const auto c = chain({{0x1000, 5, false}, {0x2000, 5, false}});
  BufferBackend backend(4);
  auto offset = deliver_to_backend(memory_, c, 0, backend);
  EXPECT_EQ(offset.value(), 4U);
  EXPECT_EQ(backend.receive_all(), "0123");
  offset = deliver_to_backend(memory_, c, *offset, backend);
  EXPECT_EQ(offset.value(), 8U) << "the rest of the first buffer, then what fits of the second";
  EXPECT_EQ(backend.receive_all(), "4567");
  EXPECT_EQ(deliver_to_backend(memory_, c, 8, backend).value(), 10U);
  EXPECT_EQ(backend.receive_all(), "89");
}

TEST_F(ChainIoTest, FillStopsWhenTheBackendRunsDryOrAtTheCap) {
  const auto c = chain({{0x1000, 4, true}, {0x2000, 4, true}});
  BufferBackend backend(16);
  backend.send("abcdef");
  EXPECT_EQ(fill_from_backend(memory_, c, 64, backend).value(), 6U);
  EXPECT_EQ(get(0x1000, 4) + get(0x2000, 2), "abcdef");
  backend.send("ghijkl");
  EXPECT_EQ(fill_from_backend(memory_, c, 5, backend).value(), 5U) << "capped";
  EXPECT_EQ(backend.pending_to_guest(), 1U);
}

TEST_F(ChainIoTest, BufferOutsideRamIsAnError) {
  const auto c = chain({{8 * memory::kMiB, 4, true}});
  BufferBackend backend(16);
  backend.send("x");
  EXPECT_FALSE(fill_from_backend(memory_, c, 64, backend));
}

}  // namespace
}  // namespace tilehv::vdevices::console
