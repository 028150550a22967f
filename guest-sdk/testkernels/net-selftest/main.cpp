// net-selftest: the SDK's network stack against reference frames and hostile ones, without a device.
// A recording link stands in for the NIC: the stack must answer ARP and ping with exactly the
// reference frames, deliver and send UDP exactly, and drop every malformed or foreign frame (counted,
// nothing sent, nothing delivered). Prints each failed check and "net-selftest: <n> checks, <k>
// failed"; exits 0 when none failed.
#include <guest/kernel.hpp>
#include <guest/net/bytes.hpp>
#include <guest/net/internet_checksum.hpp>
#include <guest/net/stack.hpp>

#include "frames.hpp"

using namespace guest;

namespace {

constexpr net::MacAddress kOurMac{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
constexpr net::Ipv4Address kOurIp{0x0a000001}, kPeerIp{0x0a000002};

// Records what the stack sends; never has anything to receive.
class RecordingLink final : public net::Link {
 public:
  [[nodiscard]] net::MacAddress mac() const override { return kOurMac; }
  [[nodiscard]] uint16_t mtu() const override { return 1500; }
  net::SendResult send(const void* frame, size_t size) override {
    if (size > sizeof last_) return net::SendResult::too_long;
    __builtin_memcpy(last_, frame, size);
    last_size_ = size;
    ++sent_;
    return net::SendResult::sent;
  }
  size_t receive(void*, size_t) override { return 0; }
  bool wait_receive(const time::Deadline&) override { return false; }
  bool wait_send(const time::Deadline&) override { return false; }
  bool wait_sent(const time::Deadline&) override { return true; }

  [[nodiscard]] uint64_t sent() const { return sent_; }
  [[nodiscard]] bool last_is(const uint8_t* frame, size_t size) const {
    return last_size_ == size && __builtin_memcmp(last_, frame, size) == 0;
  }
  [[nodiscard]] const uint8_t* last() const { return last_; }

 private:
  uint8_t last_[1600] = {};
  size_t last_size_ = 0;
  uint64_t sent_ = 0;
};

RecordingLink link;
net::UdpSocket socket;
uint8_t frame[1600];
uint8_t payload[1600];
unsigned checks = 0, failures = 0;

void check(bool ok, const char* what) {
  ++checks;
  if (!ok) {
    ++failures;
    print("net-selftest: FAILED {}\n", what);
  }
}

template <size_t N>
size_t load(const uint8_t (&reference)[N]) {
  __builtin_memcpy(frame, reference, N);
  return N;
}

// After a mutation of the IPv4 header at offset 14, so the header checksum is not what rejects it.
void fix_ip_checksum(uint8_t* f) {
  const size_t header = size_t{f[14] & 0x0fu} * 4;
  net::store16(f + 24, 0);
  net::store16(f + 24, net::checksum_finish(net::checksum_add(f + 14, header < 20 ? 20 : header)));
}

void fix_icmp_checksum(uint8_t* f, size_t icmp_size) {
  net::store16(f + 36, 0);
  net::store16(f + 36, net::checksum_finish(net::checksum_add(f + 34, icmp_size)));
}

// Which checksum to recompute after the mutation, so that the mutation, not a stale checksum, is
// what the stack has to catch.
enum Fix : uint8_t { kNoFix, kFixIp, kFixIcmp };

struct Hostile {
  const char* name;
  const uint8_t* base;
  size_t base_size;
  void (*mutate)(uint8_t* f, size_t& size);
  Fix fix;
  bool malformed;  // else: well-formed but not for us
};

#define BASE(array) frames::array, sizeof frames::array
const Hostile hostile[] = {
    {"runt frame", BASE(udp_in), [](uint8_t*, size_t& s) { s = 10; }, kNoFix, true},
    {"group source MAC", BASE(udp_in), [](uint8_t* f, size_t&) { f[6] |= 1; }, kNoFix, true},
    {"other destination MAC", BASE(udp_in), [](uint8_t* f, size_t&) { f[5] = 0x99; }, kNoFix, false},
    {"VLAN tag", BASE(udp_in), [](uint8_t* f, size_t&) { net::store16(f + 12, 0x8100); }, kNoFix, false},
    {"ARP truncated", BASE(arp_request), [](uint8_t*, size_t& s) { s = 41; }, kNoFix, true},
    {"ARP hardware size 7", BASE(arp_request), [](uint8_t* f, size_t&) { f[18] = 7; }, kNoFix, true},
    {"ARP broadcast sender", BASE(arp_request), [](uint8_t* f, size_t&) { __builtin_memset(f + 22, 0xff, 6); },
     kNoFix, true},
    {"ARP opcode 3", BASE(arp_request), [](uint8_t* f, size_t&) { f[21] = 3; }, kNoFix, true},
    {"ARP probe", BASE(arp_request), [](uint8_t* f, size_t&) { __builtin_memset(f + 28, 0, 4); }, kNoFix, false},
    // From a sender not in the cache: RFC 826 only refreshes known senders from others' requests.
    {"ARP for another address", BASE(arp_request), [](uint8_t* f, size_t&) { f[31] = 5; f[41] = 9; }, kNoFix, false},
    {"IP version 6", BASE(udp_in), [](uint8_t* f, size_t&) { f[14] = 0x65; }, kFixIp, true},
    {"IP header of 16 bytes", BASE(udp_in), [](uint8_t* f, size_t&) { f[14] = 0x44; }, kNoFix, true},
    {"IP header beyond packet", BASE(udp_in), [](uint8_t* f, size_t&) { f[14] = 0x4f; }, kNoFix, true},
    {"IP total below header", BASE(udp_in), [](uint8_t* f, size_t&) { net::store16(f + 16, 19); }, kFixIp, true},
    {"IP total beyond frame", BASE(udp_in), [](uint8_t* f, size_t&) { net::store16(f + 16, 1000); }, kFixIp, true},
    {"IP bad header checksum", BASE(udp_in), [](uint8_t* f, size_t&) { f[24] ^= 1; }, kNoFix, true},
    {"IP more fragments", BASE(udp_in), [](uint8_t* f, size_t&) { net::store16(f + 20, 0x2000); }, kFixIp, true},
    {"IP fragment offset", BASE(udp_in), [](uint8_t* f, size_t&) { net::store16(f + 20, 0x0001); }, kFixIp, true},
    {"IP reserved flag", BASE(udp_in), [](uint8_t* f, size_t&) { net::store16(f + 20, 0x8000); }, kFixIp, true},
    {"IP multicast source", BASE(udp_in), [](uint8_t* f, size_t&) { f[26] = 224; }, kFixIp, true},
    {"IP other destination", BASE(udp_in), [](uint8_t* f, size_t&) { f[33] = 3; }, kFixIp, false},
    {"IP protocol 6", BASE(udp_in), [](uint8_t* f, size_t&) { f[23] = 6; }, kFixIp, false},
    {"UDP length below header", BASE(udp_in), [](uint8_t* f, size_t&) { net::store16(f + 38, 7); }, kNoFix, true},
    {"UDP length beyond packet", BASE(udp_in), [](uint8_t* f, size_t&) { net::store16(f + 38, 100); }, kNoFix, true},
    {"UDP bad checksum", BASE(udp_in), [](uint8_t* f, size_t&) { f[45] ^= 0x20; }, kNoFix, true},
    // Port 0 with no checksum, so the port is what is wrong.
    {"UDP port zero", BASE(udp_in), [](uint8_t* f, size_t&) { net::store16(f + 36, 0); net::store16(f + 40, 0); },
     kNoFix, true},
    {"ICMP bad checksum", BASE(echo_request), [](uint8_t* f, size_t&) { f[50] ^= 1; }, kNoFix, true},
    {"ICMP truncated", BASE(echo_request), [](uint8_t* f, size_t&) { net::store16(f + 16, 24); }, kFixIp, true},
    {"ICMP timestamp request", BASE(echo_request), [](uint8_t* f, size_t&) { f[34] = 13; }, kFixIcmp, false},
};
#undef BASE

void feed(net::Stack& stack, size_t size) { stack.handle_frame(frame, size); }

void reference_exchanges(net::Stack& stack) {
  feed(stack, load(frames::arp_request));
  check(link.sent() == 1 && link.last_is(frames::arp_reply, sizeof frames::arp_reply), "ARP reply");
  net::MacAddress learned{};
  check(stack.arp_cache().lookup(kPeerIp, learned) && learned.bytes[5] == 0x02, "ARP learns the requester");

  feed(stack, load(frames::echo_request));
  check(link.sent() == 2 && link.last_is(frames::echo_reply, sizeof frames::echo_reply), "ICMP echo reply");

  feed(stack, load(frames::udp_in));
  net::ReceivedDatagram d{};
  check(socket.pop(d, payload, sizeof payload) && d.size == 11 && __builtin_memcmp(payload, "hello, tile", 11) == 0 &&
            d.source == kPeerIp && d.source_port == 4000,
        "UDP delivered");

  size_t size = load(frames::udp_in);
  net::store16(frame + 40, 0);  // no checksum: allowed over IPv4
  feed(stack, size);
  check(socket.pop(d, payload, sizeof payload) && d.size == 11, "UDP without checksum delivered");

  size = load(frames::udp_in);
  __builtin_memset(frame + size, 0xee, 20);  // Ethernet padding or trailing junk beyond the IP length
  feed(stack, size + 20);
  check(socket.pop(d, payload, sizeof payload) && d.size == 11, "UDP with trailing bytes delivered");

  check(stack.send_udp(9, kPeerIp, 4000, "pong!", 5) == net::SendStatus::sent &&
            link.last_is(frames::udp_out, sizeof frames::udp_out),
        "UDP sent");
  check(stack.send_udp(9, kPeerIp, 4000, payload, stack.max_udp_payload() + 1) == net::SendStatus::too_long,
        "UDP larger than the MTU refused");
}

void hostile_frames(net::Stack& stack) {
  for (const Hostile& h : hostile) {
    __builtin_memcpy(frame, h.base, h.base_size);
    size_t size = h.base_size;
    h.mutate(frame, size);
    if (h.fix == kFixIp) fix_ip_checksum(frame);
    if (h.fix == kFixIcmp) fix_icmp_checksum(frame, 64);  // the reference request's ICMP message
    const net::StackCounters before = stack.counters();
    const uint64_t sent = link.sent();
    feed(stack, size);
    const net::StackCounters& after = stack.counters();
    const bool counted = h.malformed ? after.malformed == before.malformed + 1 : after.ignored == before.ignored + 1;
    check(counted && link.sent() == sent && socket.queued() == 0 && after.udp_delivered == before.udp_delivered,
          h.name);
    // A frame that got through must not fail the checks after it as well.
    net::ReceivedDatagram d{};
    while (socket.pop(d, payload, sizeof payload)) {
    }
  }
}

void socket_limits(net::Stack& stack) {
  size_t size = load(frames::udp_in);
  net::store16(frame + 36, 8);  // a port nobody bound
  net::store16(frame + 40, 0);
  const uint64_t unbound = stack.counters().udp_unbound;
  feed(stack, size);
  check(stack.counters().udp_unbound == unbound + 1 && socket.queued() == 0, "UDP to an unbound port");

  size = load(frames::udp_in);
  for (size_t i = 0; i <= net::UdpSocket::kDepth; ++i) feed(stack, size);
  check(socket.queued() == net::UdpSocket::kDepth && stack.counters().udp_overflows == 1, "UDP socket queue bounded");
  net::ReceivedDatagram d{};
  while (socket.pop(d, payload, 4)) {
  }
  check(socket.queued() == 0 && __builtin_memcmp(payload, "hell", 4) == 0, "UDP copy bounded by the caller");

  const uint64_t sent = link.sent();
  net::MacAddress mac{};
  check(!stack.resolve(net::Ipv4Address{0x0a000063}, mac, 0) && link.sent() == sent + 1 && link.last()[21] == 1 &&
            link.last()[41] == 0x63,
        "ARP request for an unknown address");
}

void addresses_and_checksums() {
  net::Ipv4Address ip{};
  check(net::parse_ipv4_address("10.0.0.1", ip) && ip == kOurIp, "parse 10.0.0.1");
  const char* bad[] = {"", "10.0.0", "10.0.0.1.2", "256.0.0.1", "1.2.3.4 ", "1..2.3", "0010.0.0.1", "a.b.c.d"};
  for (const char* text : bad) check(!net::parse_ipv4_address(text, ip), text);
  // RFC 1071 section 3: the sum of 00 01 f2 03 f4 f5 f6 f7 is ddf2, so the checksum is 220d.
  const uint8_t rfc[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  check(net::checksum_finish(net::checksum_add(rfc, sizeof rfc)) == 0x220d, "RFC 1071 example");
  check(net::checksum_finish(net::checksum_add(rfc + 4, 4, net::checksum_add(rfc, 4))) == 0x220d,
        "checksum in pieces");
}

}  // namespace

int kernel_main() {
  static net::Stack stack(link, kOurIp);
  if (!stack.bind(socket, 7)) return 1;
  check(!stack.bind(socket, 8), "a socket binds once");
  reference_exchanges(stack);
  hostile_frames(stack);
  socket_limits(stack);
  addresses_and_checksums();
  print("net-selftest: {} checks, {} failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
