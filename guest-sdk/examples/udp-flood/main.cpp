// udp-flood: one-way UDP throughput between two kernels over virtio-net.
//
// role=send resolves peer=, shakes hands (a hello datagram, repeated until the receiver acknowledges
// it, so the receiver is up before the flood), then sends count=N datagrams of size=S bytes (defaults
// 10000 and 1024) as fast as the transmit queue takes them, waits until the device has sent them and
// prints "udp-flood: sent N". role=recv counts datagrams until it has N or none came for idle_ms
// (default 2000), then prints what arrived: how many, bytes, the time from first to last, and how
// many came out of order, twice or corrupted. Both exit 0 unless the setup failed.
#include <guest/kernel.hpp>
#include <guest/net/stack.hpp>
#include <guest/virtio_net.hpp>

#include "../udp-common/udp_common.hpp"

using namespace guest;

namespace {

constexpr const char* kName = "udp-flood";
constexpr uint64_t kMaxCount = 1'000'000;
constexpr uint32_t kData = 0x46444154, kHello = 0x48454c4f, kHelloAck = 0x4841434b;  // "FDAT" "HELO" "HACK"
constexpr size_t kHeader = 12;  // kind (4 bytes) and sequence number (8)
constexpr uint64_t kRetryNs = 250'000'000;
constexpr uint64_t kFlushNs = 5'000'000'000;

virtio::NetDevice device;
net::UdpSocket socket;
uint8_t seen[kMaxCount / 8];
uint8_t message[net::UdpSocket::kMaxPayload];
uint8_t received[net::UdpSocket::kMaxPayload];
uint8_t body[net::UdpSocket::kMaxPayload];  // what every data datagram carries after its header

void store_header(uint8_t* p, uint32_t kind, uint64_t seq) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(kind >> (24 - 8 * i));
  for (int i = 0; i < 8; ++i) p[4 + i] = static_cast<uint8_t>(seq >> (56 - 8 * i));
}
uint32_t load_kind(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint64_t load_seq(const uint8_t* p) {
  uint64_t seq = 0;
  for (int i = 0; i < 8; ++i) seq = (seq << 8) | p[4 + i];
  return seq;
}

bool handshake(net::Stack& stack, const udp_example::Config& c) {
  const time::Deadline give_up = time::Deadline::after_ns(c.wait_ms * 1'000'000);
  store_header(message, kHello, c.count);
  while (!give_up.expired()) {
    if (stack.send_udp(c.port, c.peer, c.port, message, kHeader) != net::SendStatus::sent) return false;
    const time::Deadline retry = time::Deadline::after_ns(kRetryNs);
    net::ReceivedDatagram d{};
    while (stack.receive_udp(socket, d, received, sizeof received, retry)) {
      if (d.size >= kHeader && load_kind(received) == kHelloAck && d.source == c.peer) return true;
    }
  }
  return false;
}

int send(net::Stack& stack, const udp_example::Config& c) {
  net::MacAddress peer_mac{};
  if (!stack.resolve(c.peer, peer_mac, c.wait_ms * 1'000'000)) {
    print("{}: peer did not answer ARP within {} ms\n", kName, c.wait_ms);
    return 1;
  }
  if (!handshake(stack, c)) {
    print("{}: receiver did not acknowledge the hello within {} ms\n", kName, c.wait_ms);
    return 1;
  }
  __builtin_memcpy(message + kHeader, body, c.size - kHeader);
  for (uint64_t seq = 0; seq < c.count; ++seq) {
    store_header(message, kData, seq);
    const net::SendStatus status = stack.send_udp(c.port, c.peer, c.port, message, c.size);
    if (status != net::SendStatus::sent) {
      print("{}: datagram {} not sent (status {})\n", kName, seq, static_cast<unsigned>(status));
      return 1;
    }
  }
  if (!stack.flush(kFlushNs)) print("{}: device still holds frames after {} ms\n", kName, kFlushNs / 1'000'000);
  print("{}: sent {}\n", kName, c.count);
  return 0;
}

int receive(net::Stack& stack, const udp_example::Config& c) {
  const uint64_t idle_ns = cmdline::get_u64("idle_ms", 2000) * 1'000'000;
  uint64_t count = 0, bytes = 0, out_of_order = 0, duplicates = 0, corrupt = 0;
  uint64_t first_ns = 0, last_ns = 0, highest = 0;
  bool started = false;
  while (count < c.count) {
    // Until the flood starts the sender may still be booting: it gets the whole wait.
    const time::Deadline idle = time::Deadline::after_ns(started ? idle_ns : c.wait_ms * 1'000'000);
    net::ReceivedDatagram d{};
    if (!stack.receive_udp(socket, d, received, sizeof received, idle)) break;
    if (d.size < kHeader || !(d.source == c.peer)) continue;
    const uint32_t kind = load_kind(received);
    if (kind == kHello) {
      store_header(message, kHelloAck, load_seq(received));
      stack.send_udp(c.port, d.source, d.source_port, message, kHeader);
      continue;
    }
    if (kind != kData) continue;
    const uint64_t seq = load_seq(received);
    if (seq >= c.count || d.size != c.size || __builtin_memcmp(received + kHeader, body, d.size - kHeader) != 0) {
      ++corrupt;
      continue;
    }
    const uint64_t now = time::now_ns();
    if (!started) first_ns = now;
    started = true;
    last_ns = now;
    uint8_t& bit_byte = seen[seq / 8];
    const auto bit = static_cast<uint8_t>(1u << (seq % 8));
    if ((bit_byte & bit) != 0) {
      ++duplicates;
      continue;
    }
    bit_byte = static_cast<uint8_t>(bit_byte | bit);
    // Out of order: it arrived after a datagram that was sent later.
    if (count != 0 && seq < highest) ++out_of_order;
    if (seq > highest) highest = seq;
    ++count;
    bytes += d.size;
  }
  stack.flush(kFlushNs);
  print("{}: received {} of {}, bytes {}, in {} us, {} out of order, {} duplicates, {} corrupt\n", kName, count,
        c.count, bytes, (last_ns - first_ns) / 1000, out_of_order, duplicates, corrupt);
  return 0;
}

}  // namespace

int kernel_main() {
  udp_example::Config c{};
  const udp_example::Defaults defaults{"10.0.0.1", "10.0.0.2", 10000, 1024, kHeader, kMaxCount};
  if (!udp_example::parse_config(kName, defaults, c)) return 1;
  const bool is_send = c.role == StrView("send");
  if (!is_send && !(c.role == StrView("recv"))) {
    print("{}: role must be send or recv, not \"{}\"\n", kName, c.role);
    return 1;
  }
  if (!udp_example::bring_up(kName, device)) return 1;
  static net::Stack stack(device, c.ip);
  if (!stack.bind(socket, c.port)) return 1;
  udp_example::fill_pattern(body, c.size - kHeader);
  return is_send ? send(stack, c) : receive(stack, c);
}
