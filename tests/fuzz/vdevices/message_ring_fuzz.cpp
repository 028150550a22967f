// Fuzz target: the consumer and producer of an I/O-plane ring whose shared control block and data are
// written by a hostile peer. Every message handed out must lie within the ring and the caller's
// buffer; errors are fine, crashes and out-of-bounds reads are not.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "port/message_ring.hpp"

// Input: 16 bytes of positions (tail, head), then the ring's data (4 KiB).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tilehv::vdevices::port;
  if (size < 16) return 0;
  RingControl control{};
  std::memcpy(&control.tail, data, 8);
  std::memcpy(&control.head, data + 8, 8);
  std::vector<std::uint8_t> ring(4096);
  std::memcpy(ring.data(), data + 16, std::min(size - 16, ring.size()));
  // The consumer starts from the shared head, as an endpoint that attaches does.
  MessageRing consumer(control, ring, 512);
  std::vector<std::uint8_t> out(512);
  for (int i = 0; i < 600; ++i) {
    auto got = consumer.pop(out);
    if (!got || !got->has_value()) break;
    if (**got > out.size()) __builtin_trap();
  }
  // A producer facing the same hostile positions.
  std::memcpy(&control.head, data + 8, 8);
  MessageRing producer(control, ring, 512);
  for (int i = 0; i < 20; ++i) {
    auto pushed = producer.push({out.data(), static_cast<std::size_t>(data[static_cast<std::size_t>(i) % size]) * 2});
    if (!pushed || *pushed == PushResult::kFull) break;
  }
  return 0;
}
