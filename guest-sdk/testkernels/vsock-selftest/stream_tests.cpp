// vsock-selftest: the stream life cycle between two socket tables over the loop transport.
#include "selftest.hpp"

using namespace guest;
using vsock::Error;
using vsock::Op;
using vsock::SocketId;

namespace selftest {
namespace {

constexpr uint32_t kPort = 5000;
// Sizes are small multiples of the 64 KiB receive buffer: enough for several rounds of credit, and
// quick on hosts that emulate every guest instruction (about a microsecond per copied byte there).
constexpr size_t kBulk = 3 * vsock::ReceiveBuffer::kSize;
constexpr size_t kStall = vsock::ReceiveBuffer::kSize + vsock::ReceiveBuffer::kSize / 2;
constexpr size_t kChunk = 8192;
// Byte i of a test stream is reference[i % kPeriod]: a prime period, so a lost, repeated or
// reordered packet (4052 bytes) or buffer wrap (64 KiB) shows, and any window up to kChunk bytes is
// contiguous in reference, so checks are one memcmp.
constexpr size_t kPeriod = 4099;

uint8_t reference[kPeriod + kChunk];
uint8_t sink[4096];
uint8_t big[kStall];

const uint8_t* pattern_at(size_t offset) { return reference + offset % kPeriod; }

time::Deadline after_ms(uint64_t ms) { return time::Deadline::after_ns(ms * 1'000'000); }

// Transport waits of one side run the other: a's waits poll b, b's waits poll a.
void poll_a() { a.poll(); }
void poll_b() { b.poll(); }

// A reader on b's end of a bulk transfer, checking every byte against the pattern.
SocketId drained;
size_t drained_bytes = 0;
size_t drained_wrong = 0;
void drain_b() {
  size_t got = 0;
  while (b.receive(drained, sink, sizeof sink, time::Deadline::after_ns(0), got) == Error::none && got != 0) {
    drained_wrong += __builtin_memcmp(sink, pattern_at(drained_bytes), got) != 0 ? 1 : 0;
    drained_bytes += got;
  }
}

void start_drain(SocketId s) {
  drained = s;
  drained_bytes = 0;
  drained_wrong = 0;
}

bool pair(SocketId listener, SocketId& sa, SocketId& sb) {
  return a.connect(kCidB, kPort, after_ms(100), sa) == Error::none &&
         b.accept(listener, after_ms(100), sb) == Error::none;
}

void test_connect(SocketId listener, SocketId& sa, SocketId& sb) {
  SocketId s{};
  check(a.connect(kCidB, 999, after_ms(100), s) == Error::refused, "connect to a port nobody listens on is refused");
  check(b.counters().unknown_connection == 1, "the refusal was b's RST for an unknown flow");
  check(a.open_sockets() == 0, "a refused connect frees its socket");
  check(a.connect(vsock::kHostCid - 1, kPort, after_ms(10), s) == Error::bad_address, "reserved CID rejected");
  check(a.connect(kCidA, kPort, after_ms(10), s) == Error::bad_address, "own CID rejected");

  check(pair(listener, sa, sb), "connect and accept");
  uint64_t cid = 0;
  uint32_t port = 0;
  check(b.peer(sb, cid, port) == Error::none && cid == kCidA && port == a.local_port(sa), "accepted peer address");
  check(a.peer(sa, cid, port) == Error::none && cid == kCidB && port == kPort, "connected peer address");
  SocketId again{};
  check(b.accept(listener, time::Deadline::after_ns(0), again) == Error::timed_out, "one connection accepted once");
}

void test_small_data(SocketId sa, SocketId sb) {
  const char text[] = "hello over vsock";
  check(a.send(sa, text, sizeof text, after_ms(100)) == Error::none, "small send");
  char got[64] = {};
  size_t n = 0;
  check(b.receive(sb, got, sizeof got, after_ms(100), n) == Error::none && n == sizeof text &&
            __builtin_memcmp(got, text, n) == 0,
        "small receive, exact bytes");
  check(b.send(sb, "back", 4, after_ms(100)) == Error::none, "send the other way");
  check(a.receive(sa, got, sizeof got, after_ms(100), n) == Error::none && n == 4 &&
            __builtin_memcmp(got, "back", 4) == 0,
        "receive the other way");
  check(a.receive(sa, got, sizeof got, after_ms(5), n) == Error::timed_out && n == 0, "receive times out when idle");
}

void test_bulk(SocketId sa, SocketId sb) {
  start_drain(sb);
  transport_a.set_pump(drain_b);
  bool sent_all = true;
  for (size_t offset = 0; offset < kBulk && sent_all; offset += kChunk) {
    sent_all = a.send(sa, pattern_at(offset), kChunk, after_ms(5000)) == Error::none;
  }
  const time::Deadline end = after_ms(5000);
  while (drained_bytes < kBulk && !end.expired()) drain_b();
  transport_a.set_pump(poll_b);
  check(sent_all, "192 KiB sent within the peer's credit");
  check(drained_bytes == kBulk && drained_wrong == 0, "192 KiB received intact and in order");
  check(b.counters().credit_violations == 0, "the sender never exceeded the credit");
}

void test_credit_stall(SocketId sa, SocketId sb) {
  for (size_t offset = 0; offset < kStall; offset += kChunk) __builtin_memcpy(big + offset, pattern_at(offset), kChunk);
  const uint64_t requests = transport_a.sent(Op::credit_request);
  size_t sent = 0;
  // Nobody reads on b: its 64 KiB buffer fills and the credit runs out.
  check(a.send(sa, big, kStall, after_ms(1000), &sent) == Error::timed_out, "send stalls without credit");
  check(sent == vsock::ReceiveBuffer::kSize, "exactly the advertised buffer went out");
  check(transport_a.sent(Op::credit_request) > requests, "a stalled sender asks with CREDIT_REQUEST");
  check(b.readable(sb) == vsock::ReceiveBuffer::kSize, "the receiver holds the whole buffer");
  b.poll();  // answers a CREDIT_REQUEST that may still wait, so only the reads' updates are counted
  start_drain(sb);
  const uint64_t updates = transport_b.sent(Op::credit_update);
  drain_b();
  check(drained_bytes == sent && drained_wrong == 0, "the stalled bytes read back intact");
  check(transport_b.sent(Op::credit_update) - updates == 4, "one CREDIT_UPDATE per quarter of the buffer read");
  transport_a.set_pump(drain_b);
  check(a.send(sa, big + sent, kStall - sent, after_ms(5000)) == Error::none, "the sender resumes with new credit");
  const time::Deadline end = after_ms(5000);
  while (drained_bytes < kStall && !end.expired()) drain_b();
  transport_a.set_pump(poll_b);
  check(drained_bytes == kStall && drained_wrong == 0, "the rest arrives intact");
}

void test_half_shutdown(SocketId sa, SocketId sb) {
  char got[16] = {};
  size_t n = 0;
  check(a.shutdown(sa, vsock::kShutdownSend) == Error::none, "shutdown of sending");
  check(b.receive(sb, got, sizeof got, after_ms(100), n) == Error::end_of_stream,
        "the peer sees the end of the stream");
  check(a.send(sa, "x", 1, after_ms(10)) == Error::closed, "no sending after shutdown");
  check(b.send(sb, "late", 4, after_ms(100)) == Error::none, "the other direction still works");
  check(a.receive(sa, got, sizeof got, after_ms(100), n) == Error::none && n == 4, "and is received");
  check(b.close(sb, after_ms(100)) == Error::none, "close completes with the peer's RST");
  check(a.receive(sa, got, sizeof got, after_ms(100), n) == Error::end_of_stream,
        "end of stream after the peer closed");
  check(a.send(sa, "x", 1, after_ms(10)) == Error::closed, "no sending to a closed peer");
  check(a.close(sa, after_ms(100)) == Error::none, "close of a connection the peer ended");
  check(a.open_sockets() == 0 && b.open_sockets() == 1, "only the listener remains");
  check(b.receive(sb, got, sizeof got, after_ms(1), n) == Error::bad_socket, "a closed handle is stale");
}

void test_peer_reset(SocketId listener) {
  SocketId sa{}, sb{};
  check(pair(listener, sa, sb), "second connection");
  check(b.send(sb, "data", 4, after_ms(100)) == Error::none, "data before the reset");
  a.poll();
  const vsock::Header rst{kCidB, kCidA, kPort, a.local_port(sa), 0, vsock::kTypeStream, Op::rst, 0, 0, 0};
  a.handle_packet(rst, nullptr);
  char got[16] = {};
  size_t n = 0;
  check(a.receive(sa, got, sizeof got, after_ms(10), n) == Error::none && n == 4, "bytes before a reset stay readable");
  check(a.receive(sa, got, sizeof got, after_ms(10), n) == Error::reset, "then the reset shows");
  check(a.send(sa, "x", 1, after_ms(10)) == Error::reset, "sending after a reset fails");
  check(a.close(sa, after_ms(10)) == Error::none, "close after a reset");
  // b never saw the RST: its close meets a peer that no longer knows the flow, which answers RST.
  check(b.close(sb, after_ms(100)) == Error::none, "close towards a forgotten flow ends with its RST");
}

void test_transport_reset(SocketId listener) {
  SocketId sa{}, sb{}, la{};
  check(pair(listener, sa, sb), "third connection");
  check(a.listen(7000, la) == Error::none, "a listens too");
  transport_a.raise_reset();
  a.poll();
  char got[4];
  size_t n = 0;
  check(a.receive(sa, got, sizeof got, after_ms(10), n) == Error::reset, "a transport reset resets connections");
  SocketId other{};
  check(a.listen(7000, other) == Error::port_in_use, "listeners survive a transport reset");
  check(a.close(sa, after_ms(10)) == Error::none && a.close(la, after_ms(10)) == Error::none, "close both");
  check(b.close(sb, after_ms(100)) == Error::none, "the peer's close ends with RST from the forgotten flow");
}

void test_timeouts(SocketId listener) {
  SocketId s{};
  transport_a.set_pump(nullptr);  // b does not run while a waits: nobody answers
  const uint64_t rsts = transport_a.sent(Op::rst);
  check(a.connect(kCidB, kPort, after_ms(20), s) == Error::timed_out, "connect times out without an answer");
  check(transport_a.sent(Op::rst) == rsts + 1, "a timed-out connect withdraws its REQUEST with RST");
  b.poll();  // b accepted the REQUEST, then took the RST
  a.poll();  // a answers b's RESPONSE for a flow it forgot with RST; b ignores that RST
  check(b.accept(listener, time::Deadline::after_ns(0), s) == Error::timed_out,
        "a withdrawn connection is not accepted");
  check(b.open_sockets() == 1 && a.open_sockets() == 0, "and leaves no socket behind");

  SocketId sa{}, sb{};
  transport_a.set_pump(poll_b);
  check(pair(listener, sa, sb), "fourth connection");
  transport_a.set_pump(nullptr);
  const uint64_t shutdowns = transport_a.sent(Op::shutdown);
  const uint64_t resets = transport_a.sent(Op::rst);
  check(a.close(sa, after_ms(20)) == Error::timed_out, "close without the peer's RST times out");
  check(transport_a.sent(Op::shutdown) == shutdowns + 1 && transport_a.sent(Op::rst) == resets + 1,
        "SHUTDOWN, then RST when no answer came");
  transport_a.set_pump(poll_b);
  char got[4];
  size_t n = 0;
  check(b.receive(sb, got, sizeof got, after_ms(100), n) == Error::end_of_stream, "the peer saw the full shutdown");
  check(b.close(sb, after_ms(10)) == Error::none, "and closes");
  check(a.open_sockets() == 0 && b.open_sockets() == 1, "nothing left but the listener");
}

}  // namespace

void run_stream_tests() {
  for (size_t i = 0; i < sizeof reference; ++i) reference[i] = static_cast<uint8_t>((i % kPeriod) * 131 + 7);
  transport_a.set_pump(poll_b);
  transport_b.set_pump(poll_a);
  SocketId listener{}, sa{}, sb{};
  check(b.listen(kPort, listener) == Error::none, "listen");
  SocketId dup{};
  check(b.listen(kPort, dup) == Error::port_in_use, "one listener per port");
  test_connect(listener, sa, sb);
  test_small_data(sa, sb);
  test_bulk(sa, sb);
  test_credit_stall(sa, sb);
  test_half_shutdown(sa, sb);
  test_peer_reset(listener);
  test_transport_reset(listener);
  test_timeouts(listener);
  check(b.close(listener, after_ms(10)) == Error::none && b.open_sockets() == 0, "close the listener");
  check(a.counters().credit_violations == 0 && b.counters().credit_violations == 0, "no credit violations");
  check(a.counters().malformed == 0 && b.counters().malformed == 0, "no malformed packets between the two");
  check(a.counters().replies_dropped == 0 && b.counters().replies_dropped == 0, "no reply dropped");
}

}  // namespace selftest
