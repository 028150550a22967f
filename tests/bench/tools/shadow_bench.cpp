// tilehv-bench-shadow: what a shadow costs its live partition on the I/O plane's data path. A live
// partition's port ("a") receives frames from a neighbour ("b"), once without a shadow and once with
// a shadow attached (its mirror port drained, its answers compared), in alternating runs:
//
//   throughput  frames per second b -> a, the live side draining as fast as it can, timed over
//               bursts of kBurst frames;
//   latency     ping-pong rounds b -> a -> b, a answering each frame (its answer is the live output
//               the comparator records; with a shadow, the shadow answers too).
//
// Threads stand in for the guests and sleep on their ports' eventfds as a halted vCPU sleeps until
// its interrupt. What is measured is what the plane does on the live path for a shadow (the copy
// into its ring, the comparator): the shadow's guest works between bursts (throughput) or every
// SHADOW_DRAIN_MS (latency), not beside them, because on a 2-core host a fourth busy thread would
// measure the scheduler sharing two CPUs, and a tile gives a shadow its own share of CPU (a quarter
// of the live partition's weight by default). Prints medians over the runs and the ratios
// docs/PERFORMANCE.md records (targets: throughput with a shadow at least 95% of without; p50 added
// latency at most 10 us per input).
#include <poll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "ioplane/io_plane.hpp"
#include "port/plane_client.hpp"

namespace {

using namespace tilehv;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using vdevices::port::PortEndpoint;
using vdevices::port::PushResult;

const ioplane::MacAddress kMacA{{0x02, 0x74, 0x68, 0x00, 0x00, 0x0a}};
const ioplane::MacAddress kMacB{{0x02, 0x74, 0x68, 0x00, 0x00, 0x0b}};

std::vector<std::uint8_t> frame(const ioplane::MacAddress& from, const ioplane::MacAddress& to, std::size_t size) {
  std::vector<std::uint8_t> f(size, 0x5a);
  std::copy(to.bytes.begin(), to.bytes.end(), f.begin());
  std::copy(from.bytes.begin(), from.bytes.end(), f.begin() + 6);
  f[12] = 0x08;
  f[13] = 0x00;
  return f;
}

void die(const std::string& what) {
  std::fprintf(stderr, "tilehv-bench-shadow: %s\n", what.c_str());
  std::exit(1);
}

// The shadow's guest runs with a quarter of the live partition's CPU weight, as tilehvd starts it
// (cpuWeightPercent 25): nice +6 is a quarter of the kernel's default weight. It works off what its
// port holds once a millisecond, like a guest that coalesces interrupts: on a 2-core host a guest
// thread woken per frame would measure the scheduler sharing two CPUs among four busy threads, not
// what the plane does for a shadow (a copy into its ring, a wakeup, the comparator).
void as_shadow_thread() {
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 6);
}

// Sleeps until the plane signals the port (a message or room), as a guest's vCPU would.
void sleep_on(PortEndpoint& port) {
  if (!port.prepare_to_sleep()) return;
  pollfd p{port.wake_fd(), POLLIN, 0};
  (void)::poll(&p, 1, 50);
  port.consume_wake();
}

void send_blocking(PortEndpoint& port, const std::vector<std::uint8_t>& message) {
  for (;;) {
    auto sent = port.send(message);
    if (!sent) die(sent.error().message);
    if (*sent == PushResult::kPushed) return;
    sleep_on(port);
  }
}

std::chrono::milliseconds drain_every{20};

// Drains `port` every `drain_every`, answering each message with `answer` if it is not empty.
void shadow_guest_loop(PortEndpoint& port, const std::vector<std::uint8_t>& answer, const std::atomic<bool>& stop) {
  as_shadow_thread();
  std::vector<std::uint8_t> in(port.max_message());
  while (!stop.load(std::memory_order_relaxed)) {
    for (;;) {
      auto got = port.receive(in);
      if (!got) die(got.error().message);
      if (!got->has_value()) break;
      if (!answer.empty()) send_blocking(port, answer);
    }
    std::this_thread::sleep_for(drain_every);
  }
}

// Receives one message, sleeping while there is none; false once `stop` is set.
bool receive_blocking(PortEndpoint& port, std::vector<std::uint8_t>& out, const std::atomic<bool>& stop) {
  while (!stop.load(std::memory_order_relaxed)) {
    auto got = port.receive(out);
    if (!got) die(got.error().message);
    if (got->has_value()) return true;
    sleep_on(port);
  }
  return false;
}

struct Tile {
  std::unique_ptr<ioplane::IoPlane> plane;
  std::vector<std::unique_ptr<vdevices::port::PlaneClient>> clients;
  std::optional<PortEndpoint> a, b, shadow;

  PortEndpoint take(tl::expected<util::UniqueFd, std::string> link, const std::string& name) {
    if (!link) die(link.error());
    clients.push_back(std::make_unique<vdevices::port::PlaneClient>(std::move(*link)));
    auto grant = clients.back()->request({"net", name}, 5s);
    if (!grant) die(grant.error());
    auto endpoint = PortEndpoint::attach(std::move(grant->fds), vdevices::port::PortSide::kDevice);
    if (!endpoint) die(endpoint.error());
    return std::move(*endpoint);
  }
};

Tile make_tile(bool with_shadow) {
  ioplane::PlaneConfig config;
  config.net_ports = {{"a", kMacA, 1500, {}}, {"b", kMacB, 1500, {}}};
  auto plane = ioplane::IoPlane::create(config);
  if (!plane) die(plane.error());
  Tile t;
  t.plane = std::move(*plane);
  t.a.emplace(t.take(t.plane->open_link({"net:a"}), "a"));
  t.b.emplace(t.take(t.plane->open_link({"net:b"}), "b"));
  if (with_shadow) {
    policy::Shadow spec;
    spec.name = "a-next";
    spec.live = "a";
    spec.watchdog_ms = 600'000;
    t.shadow.emplace(t.take(t.plane->open_shadow_link(spec, {"net:a"}), "a"));
    if (auto mirroring = t.plane->begin_mirroring("a-next", 5s); !mirroring) die(mirroring.error());
  }
  return t;
}

// Frames per second from b to a (each side a thread); with a shadow, its mirror fills during a burst
// and its guest drains it between bursts.
double throughput(bool with_shadow, int frames) {
  constexpr int kBurst = 3000;  // within the mirror's ring and backlog
  Tile t = make_tile(with_shadow);
  std::atomic<bool> stop{false};
  std::atomic<int> received{0};
  std::thread live_guest([&] {
    std::vector<std::uint8_t> in(t.a->max_message());
    while (receive_blocking(*t.a, in, stop)) received.fetch_add(1);
  });
  const auto f = frame(kMacB, kMacA, 64);
  std::vector<std::uint8_t> drained(t.a->max_message());
  Clock::duration busy{};
  for (int sent = 0; sent < frames;) {
    const int burst = std::min(kBurst, frames - sent);
    const auto start = Clock::now();
    // A switch drops what a full ring cannot take: at most kWindow frames in flight, as a
    // transport's window would keep, so that what is measured is delivery, not loss.
    constexpr int kWindow = 512;
    for (int i = 0; i < burst; ++i, ++sent) {
      while (sent - received.load(std::memory_order_relaxed) >= kWindow) std::this_thread::yield();
      send_blocking(*t.b, f);
    }
    const auto deadline = Clock::now() + 10s;
    while (received.load() < sent && Clock::now() < deadline) std::this_thread::yield();
    busy += Clock::now() - start;
    if (received.load() < sent) die("frames were lost on the live path");
    if (with_shadow) {
      // Between bursts: the shadow's guest takes what was mirrored to it.
      for (int taken = 0; taken < burst;) {
        auto got = t.shadow->receive(drained);
        if (!got) die(got.error().message);
        if (got->has_value()) {
          ++taken;
        } else {
          std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
      }
    }
  }
  stop = true;
  live_guest.join();
  if (with_shadow) {
    std::string state;
    t.plane->with_shadow("a-next", [&](ioplane::ShadowSession& s) { state = ioplane::session_state_name(s.state()); });
    if (state != "mirroring") die("the shadow stopped mirroring (" + state + "): the run measured no shadow");
  }
  return frames / std::chrono::duration<double>(busy).count();
}

// Round trips b -> a -> b in microseconds, a (and the shadow) answering each frame.
std::vector<double> round_trips(bool with_shadow, int rounds) {
  Tile t = make_tile(with_shadow);
  std::atomic<bool> stop{false};
  const auto answer = frame(kMacA, kMacB, 64);
  const auto answering = [&](PortEndpoint& port) {
    std::vector<std::uint8_t> in(port.max_message());
    while (receive_blocking(port, in, stop)) send_blocking(port, answer);
  };
  std::thread live_guest([&] { answering(*t.a); });
  std::thread shadow_guest;
  if (with_shadow) shadow_guest = std::thread([&] { shadow_guest_loop(*t.shadow, answer, stop); });
  const auto ping = frame(kMacB, kMacA, 64);
  std::vector<std::uint8_t> in(t.b->max_message());
  std::vector<double> us;
  for (int i = 0; i < rounds; ++i) {
    const auto start = Clock::now();
    send_blocking(*t.b, ping);
    if (!receive_blocking(*t.b, in, stop)) die("no answer");
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::uint64_t matched = 0;
  std::string status;
  const auto deadline = Clock::now() + 2s;  // the shadow's last answers come with its next drain
  while (with_shadow && matched < static_cast<std::uint64_t>(rounds) && Clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
    t.plane->with_shadow("a-next", [&](ioplane::ShadowSession& s) {
      matched = s.comparator()->counts(policy::OutputStream::kNetwork)->matched;
      status = ioplane::session_state_name(s.state());
    });
  }
  stop = true;
  live_guest.join();
  if (shadow_guest.joinable()) shadow_guest.join();
  if (with_shadow && matched < static_cast<std::uint64_t>(rounds)) {
    die(fmt::format("the comparator matched {} of {} answers (shadow {})", matched, rounds, status));
  }
  return us;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  // tilehv-bench-shadow [RUNS [SHADOW_DRAIN_MS]]
  const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  if (argc > 2) drain_every = std::chrono::milliseconds(std::atoi(argv[2]));
  const int frames = 200'000, rounds = 3000;
  std::vector<double> fps[2], p50[2];
  for (int run = 0; run < runs; ++run) {
    for (int with = 0; with < 2; ++with) {
      fps[with].push_back(throughput(with == 1, frames));
      p50[with].push_back(median(round_trips(with == 1, rounds)));
    }
  }
  const double fps_without = median(fps[0]), fps_with = median(fps[1]);
  const double rtt_without = median(p50[0]), rtt_with = median(p50[1]);
  std::printf("runs %d, %d frames of 64 B per throughput run, %d rounds per latency run, shadow drains every %lld ms (medians)\n",
              runs, frames, rounds, static_cast<long long>(drain_every.count()));
  std::printf("throughput without shadow: %.0f frames/s\n", fps_without);
  std::printf("throughput with shadow:    %.0f frames/s\n", fps_with);
  std::printf("throughput ratio:          %.3f (target >= 0.95)\n", fps_with / fps_without);
  std::printf("round trip p50 without:    %.1f us\n", rtt_without);
  std::printf("round trip p50 with:       %.1f us\n", rtt_with);
  std::printf("added latency p50:         %.1f us per input (target <= 10)\n", rtt_with - rtt_without);
  return 0;
}
