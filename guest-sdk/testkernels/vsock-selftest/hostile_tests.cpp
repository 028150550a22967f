// vsock-selftest: the header codec, the receive buffer, and hostile or malformed packets fed straight
// into socket table b, whose answers land in a's transport (a itself does not run here).
#include "selftest.hpp"

using namespace guest;
using vsock::Error;
using vsock::Header;
using vsock::Op;

namespace selftest {
namespace {

constexpr uint32_t kListenPort = 6000;

vsock::ReceiveBuffer ring;
uint8_t bytes[vsock::kMaxPayload];
uint8_t out[vsock::kMaxPayload];

bool same(const Header& x, const Header& y) {
  return x.src_cid == y.src_cid && x.dst_cid == y.dst_cid && x.src_port == y.src_port && x.dst_port == y.dst_port &&
         x.len == y.len && x.type == y.type && x.op == y.op && x.flags == y.flags && x.buf_alloc == y.buf_alloc &&
         x.fwd_cnt == y.fwd_cnt;
}

void test_codec() {
  const Header h{0x0807060504030201,      0x1817161514131211, 0x24232221, 0x34333231, 0x44434241, 0x5251,
                 static_cast<Op>(0x6261), 0x74737271,         0x84838281, 0x94939291};
  // virtio_vsock_hdr, little-endian, fields in spec order.
  const uint8_t wire[vsock::kHeaderSize] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x11, 0x12, 0x13,
                                            0x14, 0x15, 0x16, 0x17, 0x18, 0x21, 0x22, 0x23, 0x24, 0x31, 0x32,
                                            0x33, 0x34, 0x41, 0x42, 0x43, 0x44, 0x51, 0x52, 0x61, 0x62, 0x71,
                                            0x72, 0x73, 0x74, 0x81, 0x82, 0x83, 0x84, 0x91, 0x92, 0x93, 0x94};
  uint8_t encoded[vsock::kHeaderSize] = {};
  vsock::encode_header(h, encoded);
  check(__builtin_memcmp(encoded, wire, sizeof wire) == 0, "header encodes as the spec's little-endian layout");
  check(same(vsock::decode_header(wire), h), "header decodes field by field");

  Header p{};
  uint8_t packet[vsock::kHeaderSize + 16] = {};
  vsock::encode_header(Header{2, 3, 1, 2, 10, 1, Op::rw, 0, 0, 0}, packet);
  check(!vsock::parse_packet(packet, vsock::kHeaderSize - 1, p), "a buffer shorter than a header is refused");
  check(!vsock::parse_packet(packet, vsock::kHeaderSize + 9, p), "a payload beyond the used length is refused");
  check(vsock::parse_packet(packet, vsock::kHeaderSize + 10, p) && p.len == 10, "an exact packet is taken");
  check(vsock::parse_packet(packet, sizeof packet, p) && p.len == 10, "bytes beyond len are ignored");
  vsock::encode_header(Header{2, 3, 1, 2, 0xffffffff, 1, Op::rw, 0, 0, 0}, packet);
  check(!vsock::parse_packet(packet, sizeof packet, p), "a huge len is refused");
}

void test_receive_buffer() {
  ring.reset();
  for (size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<uint8_t>(i * 13 + 5);
  bool ok = true;
  // 17 rounds of 4052 bytes cross the 64 KiB wrap once.
  for (int round = 0; round < 17 && ok; ++round) {
    ok = ring.append(bytes, vsock::kMaxPayload) && ring.read(out, sizeof out) == vsock::kMaxPayload &&
         __builtin_memcmp(out, bytes, vsock::kMaxPayload) == 0;
  }
  check(ok && ring.unread() == 0, "receive buffer wraps without losing a byte");
  size_t filled = 0;
  while (ring.append(bytes, 4096)) filled += 4096;
  check(filled == vsock::ReceiveBuffer::kSize && ring.unread() == filled, "receive buffer holds exactly 64 KiB");
  check(!ring.append(bytes, 1) && !ring.discard(1), "nothing beyond the advertised space");
  check(ring.read(out, 100) == 100 && ring.append(bytes, 100) && !ring.append(bytes, 1), "freed space is reusable");
  check(ring.update_due(), "a CREDIT_UPDATE is due after a quarter was read");
}

// Feeds one packet into b and returns how many packets b sent in answer; the last one in answer.
size_t feed(const Header& h, Header& answer, const uint8_t* payload = nullptr) {
  transport_a.clear();
  b.handle_packet(h, payload);
  const size_t n = transport_a.queued();
  uint8_t scratch[vsock::kMaxPayload];
  while (transport_a.receive(answer, scratch, sizeof scratch)) {
  }
  return n;
}

bool is_rst_for(const Header& answer, const Header& h) {
  return answer.op == Op::rst && answer.type == vsock::kTypeStream && answer.src_cid == kCidB &&
         answer.dst_cid == h.src_cid && answer.src_port == h.dst_port && answer.dst_port == h.src_port &&
         answer.len == 0;
}

Header from_a(uint32_t src_port, uint32_t dst_port, Op op, uint32_t len = 0) {
  return Header{kCidA, kCidB, src_port, dst_port, len, vsock::kTypeStream, op, 0, 65536, 0};
}

void test_hostile() {
  vsock::SocketId listener{};
  check(b.listen(kListenPort, listener) == Error::none, "hostile: listen");
  const vsock::SocketsCounters before = b.counters();
  Header answer{};
  Header h = from_a(100, kListenPort, Op::request);
  h.dst_cid = 5;
  check(feed(h, answer) == 0, "another destination CID is dropped silently");
  h = from_a(100, kListenPort, Op::request);
  h.src_cid = 1;
  check(feed(h, answer) == 0, "a reserved source CID is dropped silently");
  h.src_cid = 0x100000003;
  check(feed(h, answer) == 0, "a source CID with upper bits is dropped silently");
  check(b.counters().not_for_us == before.not_for_us + 3, "and counted");

  h = from_a(101, kListenPort, Op::request);
  h.type = 2;
  check(feed(h, answer) == 1 && is_rst_for(answer, h) && answer.type == vsock::kTypeStream,
        "SEQPACKET REQUEST answered with a stream RST");
  h = from_a(102, kListenPort, Op::invalid);
  check(feed(h, answer) == 1 && is_rst_for(answer, h), "op 0 answered with RST");
  h = from_a(103, kListenPort, static_cast<Op>(99));
  check(feed(h, answer) == 1 && is_rst_for(answer, h), "unknown op answered with RST");
  h = from_a(104, kListenPort, Op::request, 10);
  check(feed(h, answer, bytes) == 1 && is_rst_for(answer, h), "REQUEST with a payload answered with RST");
  check(b.counters().malformed == before.malformed + 4 && b.open_sockets() == 1, "malformed: counted, nothing opened");

  h = from_a(105, kListenPort + 1, Op::request);
  check(feed(h, answer) == 1 && is_rst_for(answer, h), "REQUEST nobody listens for answered with RST");
  h = from_a(106, kListenPort, Op::rw, 4);
  check(feed(h, answer, bytes) == 1 && is_rst_for(answer, h), "RW of an unknown flow answered with RST");
  h = from_a(107, kListenPort, Op::rst);
  check(feed(h, answer) == 0, "RST of an unknown flow is never answered");
  check(b.counters().unknown_connection == before.unknown_connection + 3, "unknown flows counted");

  // Credit: the peer may have 64 KiB in flight, not a byte more.
  h = from_a(200, kListenPort, Op::request);
  check(feed(h, answer) == 1 && answer.op == Op::response && answer.buf_alloc == vsock::ReceiveBuffer::kSize,
        "REQUEST answered with RESPONSE advertising the buffer");
  size_t in_flight = 0;
  bool quiet = true;
  h = from_a(200, kListenPort, Op::rw, vsock::kMaxPayload);
  while (in_flight + vsock::kMaxPayload <= vsock::ReceiveBuffer::kSize) {
    quiet = quiet && feed(h, answer, bytes) == 0;
    in_flight += vsock::kMaxPayload;
  }
  check(quiet, "RW within the credit is taken silently");
  h.len = static_cast<uint32_t>(vsock::ReceiveBuffer::kSize - in_flight + 1);
  check(feed(h, answer, bytes) == 1 && is_rst_for(answer, h), "one byte beyond the credit resets the flow");
  check(b.counters().credit_violations == before.credit_violations + 1, "credit violation counted");
  h = from_a(200, kListenPort, Op::rw, 1);
  check(feed(h, answer, bytes) == 1 && is_rst_for(answer, h), "the reset flow is unknown from then on");
  vsock::SocketId s{};
  check(b.accept(listener, time::Deadline::after_ns(0), s) == Error::timed_out,
        "a flow reset before accept is dropped");

  // A REQUEST flood takes at most half the sockets.
  size_t accepted = 0;
  for (uint32_t port = 300; port < 306; ++port) {
    accepted += feed(from_a(port, kListenPort, Op::request), answer) == 1 && answer.op == Op::response ? 1 : 0;
  }
  check(accepted == vsock::Sockets::kMaxSockets / 2, "pending connections are capped");
  check(b.counters().refused_requests == before.refused_requests + 2, "the rest are refused with RST");
  h = from_a(300, kListenPort, Op::response);
  check(feed(h, answer) == 1 && is_rst_for(answer, h), "RESPONSE on an established flow resets it");
  h = from_a(301, kListenPort, Op::request);
  check(feed(h, answer) == 1 && is_rst_for(answer, h), "a second REQUEST on a flow resets it");
  check(b.counters().protocol_errors == before.protocol_errors + 2, "protocol errors counted");
  h = from_a(302, kListenPort, Op::credit_request);
  check(feed(h, answer) == 1 && answer.op == Op::credit_update && answer.fwd_cnt == 0, "CREDIT_REQUEST answered");
  h = from_a(303, kListenPort, Op::rst, 5);
  check(feed(h, answer, bytes) == 0, "a malformed RST ends its flow without an answer");
  check(b.counters().malformed == before.malformed + 5, "and counts as malformed");
  transport_a.clear();
  check(b.close(listener, time::Deadline::after_ns(0)) == Error::none, "closing the listener");
  check(transport_a.queued() == 1 && b.open_sockets() == 0, "resets its one unaccepted live connection");
  transport_a.clear();
}

}  // namespace

void run_hostile_tests() {
  test_codec();
  test_receive_buffer();
  test_hostile();
}

}  // namespace selftest
