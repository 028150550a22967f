// Record views and fields: a UDP datagram's payload and destination port out of a frame, a vsock
// packet's data and conversation, key=value words and JSON objects; hostile shapes judged whole.
#include "shadow/record_view.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace tilehv::shadow {
namespace {

std::span<const std::uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

std::vector<std::uint8_t> udp_frame(const std::string& payload, std::uint16_t port) {
  std::vector<std::uint8_t> f(14 + 20 + 8, 0);
  f[12] = 0x08;
  const auto total = static_cast<std::uint16_t>(20 + 8 + payload.size());
  f[14] = 0x45;
  f[16] = static_cast<std::uint8_t>(total >> 8);
  f[17] = static_cast<std::uint8_t>(total);
  f[23] = 17;
  f[34 + 2] = static_cast<std::uint8_t>(port >> 8);
  f[34 + 3] = static_cast<std::uint8_t>(port);
  const auto length = static_cast<std::uint16_t>(8 + payload.size());
  f[34 + 4] = static_cast<std::uint8_t>(length >> 8);
  f[34 + 5] = static_cast<std::uint8_t>(length);
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

TEST(RecordView, UdpPayloadAndPort) {
  const auto frame = udp_frame("cmd seq=1 valve=5\n", 47808);
  const RecordView v = view_record(policy::OutputStream::kNetwork, frame);
  EXPECT_EQ(std::string(v.body.begin(), v.body.end()), "cmd seq=1 valve=5\n");
  EXPECT_EQ(v.key, "udp:47808");
}

TEST(RecordView, MalformedFramesAreJudgedWhole) {
  auto frame = udp_frame("x", 1);
  frame[17] = 0xff;  // total length beyond the frame
  EXPECT_EQ(view_record(policy::OutputStream::kNetwork, frame).key, "frame");
  auto fragment = udp_frame("x", 1);
  fragment[20] = 0x20;  // more fragments
  EXPECT_EQ(view_record(policy::OutputStream::kNetwork, fragment).key, "frame");
  EXPECT_EQ(view_record(policy::OutputStream::kNetwork, bytes("short")).key, "frame");
  std::vector<std::uint8_t> arp(60, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_EQ(view_record(policy::OutputStream::kNetwork, arp).body.size(), 60U);
}

TEST(RecordView, VsockDataAfterTheHeader) {
  std::vector<std::uint8_t> packet(44, 0);
  packet[20] = 0x88;  // dst_port 5000 = 0x1388, little-endian
  packet[21] = 0x13;
  packet[30] = 5;  // op RW
  const std::string data = "reading=7";
  packet.insert(packet.end(), data.begin(), data.end());
  const RecordView v = view_record(policy::OutputStream::kChannels, packet);
  EXPECT_EQ(v.key, "vsock:5000:5");
  EXPECT_EQ(std::string(v.body.begin(), v.body.end()), data);
}

TEST(RecordFields, WordsAndJson) {
  auto words = parse_fields(bytes("cmd seq=3 t=99 valve=512\n"));
  ASSERT_TRUE(words);
  EXPECT_EQ((*words)["#0"], "cmd");
  EXPECT_EQ((*words)["valve"], "512");
  auto json = parse_fields(bytes(R"({"seq": 3, "name": "a", "nested": {"x": 1}})"));
  ASSERT_TRUE(json);
  EXPECT_EQ((*json)["seq"], "3");
  EXPECT_EQ((*json)["name"], "a");
  EXPECT_EQ((*json)["nested"], R"({"x":1})");
}

TEST(RecordFields, BinaryDuplicateKeysAndBrokenJsonAreNotFields) {
  EXPECT_FALSE(parse_fields(bytes(std::string("a=1 \x01", 5))));
  EXPECT_FALSE(parse_fields(bytes("a=1 a=2")));
  EXPECT_FALSE(parse_fields(bytes("{\"a\": ")));
}

}  // namespace
}  // namespace tilehv::shadow
