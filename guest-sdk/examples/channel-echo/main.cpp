// channel-echo: stream round trips between two kernels, or a kernel and the host, over virtio-vsock.
//
// role=server port=P [count=N] [wait_ms=W]: listens on port P and serves N connections (default 1)
// one after the other, echoing every byte back until the peer shuts down; waits up to W ms (default
// 60000) for each connection and for each piece of data. Prints "channel-echo: served N
// connections, B bytes" and exits 0.
//
// role=client cid=C port=P [count=N] [size=S] [wait_ms=W]: connects to C:P, sends N messages
// (default 1000) of S bytes (default 64, 8..65536) that start with their sequence number, reads each
// echo back, compares it and times the round trip. Prints "channel-echo: N round trips, S B, M
// mismatches, rtt p50 X us p99 Y us" and exits 0 (1 on mismatches or a failed round). A peer that
// is not there yet refuses; the client retries for W ms (default 10000), then prints
// "channel-echo: connection to C:P refused" and exits 3.
#include <guest/kernel.hpp>
#include <guest/virtio_vsock.hpp>
#include <guest/vsock/sockets.hpp>

using namespace guest;

namespace {

constexpr const char* kName = "channel-echo";
constexpr uint64_t kMaxRounds = 100'000;
constexpr uint64_t kMaxSize = 65'536;                // the echo fits in the two ends' receive buffers, so no deadlock
constexpr uint64_t kRoundTimeoutNs = 5'000'000'000;  // after connecting the peer is known to be up
constexpr uint64_t kAttemptNs = 1'000'000'000;       // one REQUEST waits this long for its answer
constexpr uint64_t kRetryPauseNs = 50'000'000;       // between refused attempts
constexpr uint64_t kCloseNs = 2'000'000'000;
constexpr int kExitRefused = 3;

virtio::VsockDevice device;
vsock::Sockets sockets(device);
uint32_t rtt_us[kMaxRounds];
uint8_t message[kMaxSize];
uint8_t echo[kMaxSize];

bool number(StrView key, uint64_t fallback, uint64_t low, uint64_t high, uint64_t& out) {
  const cmdline::Lookup found = cmdline::find(key);
  out = fallback;
  if (!found.found) return true;
  const cmdline::ParsedInteger parsed = cmdline::parse_u64(found.value);
  if (parsed.ok && parsed.value >= low && parsed.value <= high) {
    out = parsed.value;
    return true;
  }
  print("{}: bad {} \"{}\" (want {}..{})\n", kName, key, found.value, low, high);
  return false;
}

time::Deadline after_ms(uint64_t ms) { return time::Deadline::after_ns(ms * 1'000'000); }
const time::Deadline& earlier(const time::Deadline& a, const time::Deadline& b) {
  return a.remaining_ns() < b.remaining_ns() ? a : b;
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

// Echoes one connection until the peer shuts down; false on anything else.
bool echo_connection(vsock::SocketId s, uint64_t wait_ms, uint64_t& bytes) {
  for (;;) {
    size_t got = 0;
    const vsock::Error r = sockets.receive(s, echo, sizeof echo, after_ms(wait_ms), got);
    if (r == vsock::Error::end_of_stream) return true;
    if (r != vsock::Error::none) {
      print("{}: receive failed after {} bytes: {}\n", kName, bytes, vsock::error_name(r));
      return false;
    }
    const vsock::Error w = sockets.send(s, echo, got, after_ms(wait_ms));
    if (w != vsock::Error::none) {
      print("{}: echo failed after {} bytes: {}\n", kName, bytes, vsock::error_name(w));
      return false;
    }
    bytes += got;
  }
}

int serve(uint32_t port, uint64_t count, uint64_t wait_ms) {
  vsock::SocketId listener{};
  const vsock::Error l = sockets.listen(port, listener);
  if (l != vsock::Error::none) {
    print("{}: cannot listen on port {}: {}\n", kName, port, vsock::error_name(l));
    return 1;
  }
  uint64_t served = 0, bytes = 0;
  while (served < count) {
    vsock::SocketId s{};
    const vsock::Error a = sockets.accept(listener, after_ms(wait_ms), s);
    if (a != vsock::Error::none) {
      print("{}: no connection within {} ms after {} connections: {}\n", kName, wait_ms, served, vsock::error_name(a));
      return 1;
    }
    const bool ok = echo_connection(s, wait_ms, bytes);
    (void)sockets.close(s, time::Deadline::after_ns(kCloseNs));  // the slot is freed either way
    if (!ok) return 1;
    ++served;
  }
  (void)sockets.close(listener, time::Deadline::after_ns(0));
  sockets.flush(time::Deadline::after_ns(kCloseNs));  // the last RST may still sit in the queue
  print("{}: served {} connections, {} bytes\n", kName, served, bytes);
  return 0;
}

// Connects, retrying while the peer refuses or does not answer, until wait_ms passed. The verdict is
// what the peer last said: an attempt that the end of wait_ms cut short proves nothing, so a peer
// that kept refusing is reported as refusing.
vsock::Error connect(uint64_t cid, uint32_t port, uint64_t wait_ms, vsock::SocketId& out) {
  const time::Deadline give_up = after_ms(wait_ms);
  vsock::Error verdict = vsock::Error::timed_out;
  for (;;) {
    const time::Deadline attempt = time::Deadline::after_ns(kAttemptNs);
    const vsock::Error e = sockets.connect(cid, port, earlier(attempt, give_up), out);
    if (e == vsock::Error::none) return e;
    if (e != vsock::Error::refused && e != vsock::Error::timed_out) return e;
    if (e == vsock::Error::refused || !give_up.expired()) verdict = e;
    if (give_up.expired()) return verdict;
    if (e == vsock::Error::refused) time::delay_ns(kRetryPauseNs);
  }
}

void store_seq(uint8_t* p, uint64_t seq) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(seq >> (8 * i));
}

int run_client(uint64_t cid, uint32_t port, uint64_t count, uint64_t size, uint64_t wait_ms) {
  vsock::SocketId s{};
  const vsock::Error c = connect(cid, port, wait_ms, s);
  if (c == vsock::Error::refused) {
    print("{}: connection to {}:{} refused\n", kName, cid, port);
    return kExitRefused;
  }
  if (c != vsock::Error::none) {
    print("{}: connection to {}:{} failed: {}\n", kName, cid, port, vsock::error_name(c));
    return 1;
  }
  for (size_t i = 8; i < size; ++i) message[i] = static_cast<uint8_t>(i * 7 + (i >> 8) + 1);
  uint64_t rounds = 0, mismatches = 0;
  bool failed = false;
  for (uint64_t seq = 0; seq < count && !failed; ++seq) {
    store_seq(message, seq);
    const uint64_t start = time::now_ns();
    const time::Deadline deadline = time::Deadline::after_ns(kRoundTimeoutNs);
    vsock::Error e = sockets.send(s, message, size, deadline);
    size_t have = 0;
    while (e == vsock::Error::none && have < size) {
      size_t got = 0;
      e = sockets.receive(s, echo + have, size - have, deadline, got);
      have += got;
    }
    if (e != vsock::Error::none) {
      print("{}: round {}: {}\n", kName, seq, vsock::error_name(e));
      failed = true;
      break;
    }
    const uint64_t us = (time::now_ns() - start) / 1000;
    rtt_us[rounds++] = static_cast<uint32_t>(us > 0xffffffff ? 0xffffffff : us);
    if (__builtin_memcmp(message, echo, size) != 0) ++mismatches;
  }
  (void)sockets.close(s, time::Deadline::after_ns(kCloseNs));
  sockets.flush(time::Deadline::after_ns(kCloseNs));
  sort(rtt_us, rounds);
  print("{}: {} round trips, {} B, {} mismatches, rtt p50 {} us p99 {} us\n", kName, rounds, size, mismatches,
        percentile(rtt_us, rounds, 50), percentile(rtt_us, rounds, 99));
  return mismatches == 0 && !failed ? 0 : 1;
}

}  // namespace

int kernel_main() {
  const StrView role = cmdline::find("role").value;
  const bool server = role == StrView("server");
  if (!server && !(role == StrView("client"))) {
    print("{}: role must be server or client, not \"{}\"\n", kName, role);
    return 1;
  }
  uint64_t port = 0, count = 0, size = 0, wait_ms = 0, cid = 0, spin_us = 0;
  if (!cmdline::find("port").found) {
    print("{}: port= is required\n", kName);
    return 1;
  }
  if (!number("port", 0, 0, 0xfffffffe, port) || !number("count", server ? 1 : 1000, 1, kMaxRounds, count) ||
      !number("size", 64, 8, kMaxSize, size) || !number("wait_ms", server ? 60000 : 10000, 1, 3'600'000, wait_ms) ||
      !number("spin_us", 20, 0, 1'000'000, spin_us)) {
    return 1;
  }
  if (!server && !cmdline::find("cid").found) {
    print("{}: cid= is required for the client\n", kName);
    return 1;
  }
  if (!server && !number("cid", 0, vsock::kHostCid, vsock::kReservedCid - 1, cid)) return 1;
  const virtio::VsockDevice::InitError error = device.init();
  if (error == virtio::VsockDevice::InitError::no_device) {
    print("{}: no virtio vsock device announced\n", kName);
    return 1;
  }
  if (error != virtio::VsockDevice::InitError::none) {
    print("{}: vsock device at {:#x} refused initialization (error {})\n", kName, device.info().base,
          static_cast<unsigned>(error));
    return 1;
  }
  device.interrupt().set_spin_ns(spin_us * 1000);
  const auto p = static_cast<uint32_t>(port);
  return server ? serve(p, count, wait_ms) : run_client(cid, p, count, size, wait_ms);
}
