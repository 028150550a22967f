// tilehv-bench-channel-path: the channel data path without guest code. Two processes each run the
// VMM side of a partition exactly as tilehv does (a virtio-vsock device on a port granted over the
// plane link, a device-worker thread woken by eventfds) with a thread standing in for the guest: it
// places packets in the device's queues, kicks an eventfd as KVM's ioeventfd would, and sleeps on the
// eventfd the device's interrupt signals, as a halted vCPU sleeps until its irqfd fires. The I/O plane
// runs in this process. One round trip makes 8 wakeups, as with real guests; the floor passes a token
// around a ring of 8 processes through eventfds. Reports medians; guest execution, which dominates on
// hosts that emulate guest instructions, is left out on purpose.
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "eventfd_floor.hpp"
#include "ioplane/io_plane.hpp"
#include "port/plane_link.hpp"
#include "support/virtq_driver.hpp"
#include "vsock/virtio_vsock.hpp"

namespace {

using tilehv::bench::eventfd_ring_floor_us;
using tilehv::bench::median;

using namespace tilehv;
namespace vs = vdevices::vsock;
constexpr int kRounds = 3000;

class EventInterrupt final : public vdevices::virtio::VirtioInterrupt {
 public:
  explicit EventInterrupt(int fd) : fd_(fd) {}
  void used_buffers() noexcept override {
    const std::uint64_t one = 1;
    (void)!::write(fd_, &one, sizeof one);
  }
  void config_changed() noexcept override {}

 private:
  int fd_;
};

std::vector<std::uint8_t> rw_packet(std::uint64_t src, std::uint64_t dst, std::uint32_t sport, std::uint32_t dport) {
  vs::PacketHeader h{};
  h.src_cid = src, h.dst_cid = dst, h.src_port = sport, h.dst_port = dport;
  h.type = vs::kTypeStream;
  h.op = static_cast<std::uint16_t>(vs::Op::kRw);
  h.len = 64;
  std::vector<std::uint8_t> p(sizeof h + 64, 0x5a);
  std::memcpy(p.data(), &h, sizeof h);
  return p;
}

// One partition's VMM side plus a stand-in guest. `initiator` sends first and times round trips.
int partition(const std::string& socket, const std::string& port_name, std::uint64_t cid, std::uint64_t peer, bool initiator,
              int report_fd) {
  util::UniqueFd link;
  for (int i = 0; i < 500 && !link; ++i) {
    util::UniqueFd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path, socket.data(), socket.size());
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) link = std::move(s);
    else std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!link) return 1;
  auto grant = vdevices::port::request_port(link.get(), {"vsock", port_name}, std::chrono::seconds(5));
  if (!grant) return 2;
  auto port = vdevices::port::PortEndpoint::attach(std::move(grant->fds), vdevices::port::PortSide::kDevice);
  if (!port) return 3;
  auto memory = memory::GuestMemory::create(16 * memory::kMiB);
  if (!memory) return 4;
  vdevices::VirtioVsock device(*memory, *port, cid);
  testing::VirtqDriver rx(*memory, 16), tx(*memory, 16, 0x4000);
  util::UniqueFd kick(::eventfd(0, EFD_CLOEXEC)), irq(::eventfd(0, EFD_CLOEXEC)), stop(::eventfd(0, EFD_CLOEXEC));
  EventInterrupt interrupt(irq.get());
  vdevices::virtio::ActiveQueues active;
  active.features = vdevices::virtio::kFeatureVersion1;
  active.queues.push_back(*vdevices::virtio::SplitQueue::create(rx.layout(), *memory, {}));
  active.queues.push_back(*vdevices::virtio::SplitQueue::create(tx.layout(), *memory, {}));
  active.queue_indices = {0, 1};
  if (!device.activate(std::move(active), interrupt)) return 5;
  constexpr std::uint64_t kRx = testing::VirtqDriver::kBuffers, kTx = kRx + 0x100000;
  for (std::uint16_t i = 0; i < 16; ++i) rx.add_chain({{kRx + 0x1000ULL * i, 4096, true}}, i);

  // The device worker: kicks from the "guest" and wakes from the plane, as tilehv's DeviceWorker.
  std::thread worker([&] {
    util::UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    for (int fd : {kick.get(), port->wake_fd(), stop.get()}) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev);
    }
    for (;;) {
      epoll_event events[4];
      const int n = ::epoll_wait(ep.get(), events, 4, -1);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.fd == stop.get()) return;
        if (events[i].data.fd == kick.get()) {
          std::uint64_t v;
          (void)!::read(kick.get(), &v, sizeof v);
          (void)device.notify(vdevices::VirtioVsock::kTransmitQueue);
        } else {
          (void)device.port_ready();
        }
      }
    }
  });

  const auto packet = initiator ? rw_packet(cid, peer, 40000, 5000) : rw_packet(cid, peer, 5000, 40000);
  std::uint16_t rx_seen = 0;
  std::vector<double> samples;
  const auto send = [&](int round) {
    const std::uint16_t slot = static_cast<std::uint16_t>(round % 16);
    (void)memory->write(kTx + 0x1000ULL * slot, packet);
    tx.add_chain({{kTx + 0x1000ULL * slot, static_cast<std::uint32_t>(packet.size()), false}}, slot);
    const std::uint64_t one = 1;
    (void)!::write(kick.get(), &one, sizeof one);
  };
  const auto receive = [&]() -> bool {
    while (rx.used_index() == rx_seen) {
      pollfd p{irq.get(), POLLIN, 0};
      if (::poll(&p, 1, 3000) == 0 && std::getenv("TILEHV_BENCH_TRACE")) {
        const auto& m = device.metrics();
        std::fprintf(stderr, "cid %llu stuck: rx_seen %u used %u tx used %u; rx %llu tx %llu dropped %llu malformed %llu\n",
                     static_cast<unsigned long long>(cid), rx_seen, rx.used_index(), tx.used_index(),
                     static_cast<unsigned long long>(m.rx_packets.load()), static_cast<unsigned long long>(m.tx_packets.load()),
                     static_cast<unsigned long long>(m.rx_dropped.load()), static_cast<unsigned long long>(m.tx_malformed.load()));
      }
      std::uint64_t v;
      if (p.revents != 0) (void)!::read(irq.get(), &v, sizeof v);  // the halted vCPU, until the interrupt
    }
    const auto [head, length] = rx.used_element(rx_seen);
    (void)length;
    ++rx_seen;
    auto header = memory->read_object<vs::PacketHeader>(kRx + 0x1000ULL * head);
    rx.add_chain({{kRx + 0x1000ULL * head, 4096, true}}, static_cast<std::uint16_t>(head));
    // A reset means the peer is not attached yet (the router found no partition with its CID).
    return header && header->op == static_cast<std::uint16_t>(vs::Op::kRw);
  };
  for (int round = 0; round < kRounds; ++round) {
    if (initiator) {
      const auto start = std::chrono::steady_clock::now();
      send(round);
      while (!receive()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        send(round);
      }
      samples.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
    } else {
      while (!receive()) {
      }
      send(round);
    }
  }
  const std::uint64_t one = 1;
  (void)!::write(stop.get(), &one, sizeof one);
  worker.join();
  if (std::getenv("TILEHV_BENCH_TRACE")) {
    const auto& m = device.metrics();
    std::fprintf(stderr, "cid %llu done: rx_seen %u used %u; rx %llu tx %llu\n", static_cast<unsigned long long>(cid), rx_seen,
                 rx.used_index(), static_cast<unsigned long long>(m.rx_packets.load()),
                 static_cast<unsigned long long>(m.tx_packets.load()));
  }
  if (initiator) {
    const double p50 = median(samples);
    (void)!::write(report_fd, &p50, sizeof p50);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
  std::vector<double> path, floor8;
  for (int run = 0; run < runs; ++run) {
    const std::string socket = "/tmp/tilehv-bench-path-" + std::to_string(::getpid()) + ".sock";
    int report[2];
    if (::pipe(report) != 0) return 1;
    // The partitions fork before the plane starts its thread.
    const pid_t a = ::fork();
    if (a == 0) _exit(partition(socket, "a", 3, 4, true, report[1]));
    const pid_t b = ::fork();
    if (b == 0) _exit(partition(socket, "b", 4, 3, false, report[1]));
    ioplane::PlaneConfig config;
    config.vsock_ports = {{"a", 3}, {"b", 4}};
    config.channels = {{"a", "b", 5000}};
    auto plane = ioplane::IoPlane::create(config);
    if (!plane || !(*plane)->listen(socket)) return 1;
    double p50 = 0;
    if (std::getenv("TILEHV_BENCH_TRACE")) std::fprintf(stderr, "run %d: plane up\n", run);
    pollfd pfd{report[0], POLLIN, 0};
    if (::poll(&pfd, 1, 120000) == 1 && ::read(report[0], &p50, sizeof p50) == sizeof p50) path.push_back(p50);
    if (std::getenv("TILEHV_BENCH_TRACE")) std::fprintf(stderr, "run %d: reported %.1f\n", run, p50);
    ::waitpid(a, nullptr, 0);
    ::waitpid(b, nullptr, 0);
    if (std::getenv("TILEHV_BENCH_TRACE")) std::fprintf(stderr, "run %d: children done\n", run);
    ::close(report[0]);
    ::close(report[1]);
    plane->reset();
    ::unlink(socket.c_str());
    floor8.push_back(eventfd_ring_floor_us(8, kRounds));
  }
  const double p = median(path), f = median(floor8);
  std::printf("| measure (median of %d runs, %d round trips each) | result |\n|---|---:|\n", runs, kRounds);
  std::printf("| channel path round trip p50, 64 B, device + plane + router, no guest code (us) | %.1f |\n", p);
  std::printf("| floor: eventfd token around 8 processes, p50 (us) | %.1f |\n", f);
  std::printf("| ratio | %.2f |\n", f > 0 ? p / f : 0);
  std::printf("\ntarget: channel round trip p50 <= 1.5x a floor with the same wakeups: %.2fx %s\n", f > 0 ? p / f : 0,
              f > 0 && p / f <= 1.5 ? "met" : "NOT met");
  return path.empty() ? 1 : 0;
}
