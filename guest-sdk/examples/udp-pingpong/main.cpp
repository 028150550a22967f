// udp-pingpong: UDP round trips between two kernels over virtio-net.
//
// role=ping sends a datagram of size=S bytes (default 64) carrying its sequence number, waits for it
// to come back unchanged, and repeats count=N times (default 1000); then it prints the round-trip
// percentiles and exits 0, or 1 if an echo did not match or never came. role=pong echoes every
// datagram from peer= back to it and exits 0 after echoing N distinct ones. Either side may start first: ping
// repeats ARP requests and datagrams until the peer answers (for up to wait_ms, default 30000).
#include <guest/kernel.hpp>
#include <guest/net/stack.hpp>
#include <guest/virtio_net.hpp>

#include "../udp-common/udp_common.hpp"

using namespace guest;

namespace {

constexpr const char* kName = "udp-pingpong";
constexpr uint64_t kMaxRounds = 100'000;
constexpr uint64_t kRetryNs = 250'000'000;       // a lost datagram is sent again after this
constexpr uint64_t kRoundTimeoutNs = 5'000'000'000;  // after the first round the peer is known to be up
constexpr uint64_t kFlushNs = 1'000'000'000;

virtio::NetDevice device;
net::UdpSocket socket;
uint32_t rtt_us[kMaxRounds];
uint8_t sent[net::UdpSocket::kMaxPayload];
uint8_t received[net::UdpSocket::kMaxPayload];

void store_seq(uint8_t* p, uint64_t seq) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(seq >> (56 - 8 * i));
}
uint64_t load_seq(const uint8_t* p) {
  uint64_t seq = 0;
  for (int i = 0; i < 8; ++i) seq = (seq << 8) | p[i];
  return seq;
}

// Heapsort: the freestanding SDK has no std::sort, and the percentiles need the order.
void sift_down(uint32_t* a, size_t root, size_t n) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && a[child + 1] > a[child]) ++child;
    if (a[root] >= a[child]) return;
    const uint32_t t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}
void sort(uint32_t* a, size_t n) {
  for (size_t i = n / 2; i-- > 0;) sift_down(a, i, n);
  for (size_t end = n; end-- > 1;) {
    const uint32_t t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift_down(a, 0, end);
  }
}
uint32_t percentile(const uint32_t* sorted, size_t n, size_t pct) { return n == 0 ? 0 : sorted[(n - 1) * pct / 100]; }

int ping(net::Stack& stack, const udp_example::Config& c) {
  net::MacAddress peer_mac{};
  if (!stack.resolve(c.peer, peer_mac, c.wait_ms * 1'000'000)) {
    print("{}: peer did not answer ARP within {} ms\n", kName, c.wait_ms);
    return 1;
  }
  uint64_t mismatches = 0;
  uint64_t rounds = 0;
  bool timed_out = false;
  udp_example::fill_pattern(sent + 8, c.size - 8);
  for (uint64_t seq = 0; seq < c.count && !timed_out; ++seq) {
    store_seq(sent, seq);
    const uint64_t start = time::now_ns();
    // The first round may meet a peer that is still booting: it gets the whole wait.
    const time::Deadline give_up = time::Deadline::after_ns(seq == 0 ? c.wait_ms * 1'000'000 : kRoundTimeoutNs);
    bool answered = false;
    while (!answered && !give_up.expired()) {
      if (stack.send_udp(c.port, c.peer, c.port, sent, c.size) != net::SendStatus::sent) break;
      const time::Deadline retry = time::Deadline::after_ns(kRetryNs);
      net::ReceivedDatagram d{};
      while (stack.receive_udp(socket, d, received, sizeof received, retry)) {
        // Only the peer's datagrams count, and an echo of an earlier round (its first copy came late,
        // after a retry) is not this one's.
        if (!(d.source == c.peer) || (d.size >= 8 && load_seq(received) < seq)) continue;
        answered = true;
        if (d.size != c.size || __builtin_memcmp(received, sent, c.size) != 0) ++mismatches;
        break;
      }
    }
    if (!answered) {
      print("{}: round {}: no echo from the peer\n", kName, seq);
      timed_out = true;
      break;
    }
    const uint64_t us = (time::now_ns() - start) / 1000;
    rtt_us[rounds++] = static_cast<uint32_t>(us > 0xffffffff ? 0xffffffff : us);
  }
  sort(rtt_us, rounds);
  print("{}: {} rounds, {} B, {} mismatches, rtt p50 {} us p99 {} us\n", kName, rounds, c.size, mismatches,
        percentile(rtt_us, rounds, 50), percentile(rtt_us, rounds, 99));
  return mismatches == 0 && !timed_out ? 0 : 1;
}

int pong(net::Stack& stack, const udp_example::Config& c) {
  uint64_t echoed = 0;
  uint64_t last_seq = 0;
  bool any = false;
  while (echoed < c.count) {
    net::ReceivedDatagram d{};
    const time::Deadline idle = time::Deadline::after_ns(c.wait_ms * 1'000'000);
    if (!stack.receive_udp(socket, d, received, sizeof received, idle)) {
      print("{}: nothing for {} ms after {} echoes\n", kName, c.wait_ms, echoed);
      return 1;
    }
    // Only the peer is answered: anyone else could otherwise make up the count.
    if (!(d.source == c.peer)) continue;
    const size_t size = d.size < sizeof received ? d.size : sizeof received;
    if (stack.send_udp(c.port, d.source, d.source_port, received, size) != net::SendStatus::sent) {
      print("{}: could not answer {}.{}.{}.{}\n", kName, d.source.octet(0), d.source.octet(1), d.source.octet(2),
            d.source.octet(3));
      return 1;
    }
    // A retried datagram is echoed again but counted once, so the count ends with ping's last round.
    const uint64_t seq = size >= 8 ? load_seq(received) : ~uint64_t{0};
    if (!any || seq != last_seq) ++echoed;
    any = true;
    last_seq = seq;
  }
  // The last echo may still sit in the transmit queue; exiting now would lose it.
  stack.flush(kFlushNs);
  print("{}: echoed {}\n", kName, echoed);
  return 0;
}

}  // namespace

int kernel_main() {
  udp_example::Config c{};
  const udp_example::Defaults defaults{"10.0.0.1", "10.0.0.2", 1000, 64, 8, kMaxRounds};
  if (!udp_example::parse_config(kName, defaults, c)) return 1;
  const bool is_ping = c.role == StrView("ping");
  if (!is_ping && !(c.role == StrView("pong"))) {
    print("{}: role must be ping or pong, not \"{}\"\n", kName, c.role);
    return 1;
  }
  if (!udp_example::bring_up(kName, device)) return 1;
  device.interrupt().set_spin_ns(cmdline::get_u64("spin_us", 20) * 1000);
  static net::Stack stack(device, c.ip);
  if (!stack.bind(socket, c.port)) return 1;
  return is_ping ? ping(stack, c) : pong(stack, c);
}
