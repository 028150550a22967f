// tilehv-bench-net: the partitions' I/O paths: networking against QEMU, channel round trips against an
// eventfd floor with as many wakeups, and sensor samples delivered.
//
// tilehv: two partitions on ports of an I/O plane hosted by this process (as the tile daemon hosts
// it), joined by the L2 switch. QEMU: two microvm guests with virtio-net joined by QEMU's socket
// netdev. Both run the same SDK kernels: udp-flood (send/recv: delivered datagrams per second at 64 B
// and 1500 B) and udp-pingpong (round-trip latency at 64 B). Reports medians and the ratios the
// targets are stated in.
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "eventfd_floor.hpp"
#include "ioplane/io_plane.hpp"
#include "support/process.hpp"

namespace {

using tilehv::bench::eventfd_ring_floor_us;
using tilehv::bench::median;

using tilehv::testing::ProcessResult;
using tilehv::testing::run_process;

std::map<std::string, std::string> g_opt;

std::string kernel(const std::string& name) { return g_opt["--guest-dir"] + "/" + name + ".elf"; }

int free_tcp_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  ::close(s);
  return port;
}

// The two guests' command lines, for one contender: [0] is the passive side (recv / pong), started first.
using Pair = std::pair<std::vector<std::string>, std::vector<std::string>>;

Pair tilehv_pair(const std::string& socket, const std::string& k, const std::string& passive, const std::string& active) {
  const auto one = [&](const std::string& port, const std::string& cmdline) {
    return std::vector<std::string>{g_opt["--tilehv"], "run", "--kernel", kernel(k), "--net", "port:" + port, "--plane",
                                    socket, "--cmdline", cmdline, "--timeout", "120"};
  };
  return {one("a", passive), one("b", active)};
}

Pair qemu_pair(const std::string& k, const std::string& passive, const std::string& active) {
  const int port = free_tcp_port();
  const auto one = [&](const std::string& netdev, const std::string& mac, const std::string& cmdline) {
    return std::vector<std::string>{g_opt["--qemu"], "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=off,acpi=off", "-enable-kvm",
                                    "-cpu", "host,-arch-capabilities", "-m", "64M", "-smp", "1", "-nodefaults",
                                    "-no-user-config", "-nographic", "-serial", "stdio", "-global",
                                    "virtio-mmio.force-legacy=false", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
                                    "-netdev", "socket,id=n0," + netdev, "-device", "virtio-net-device,netdev=n0,mac=" + mac,
                                    "-no-reboot", "-kernel", kernel(k), "-append", cmdline};
  };
  return {one("listen=127.0.0.1:" + std::to_string(port), "02:74:00:00:00:01", passive),
          one("connect=127.0.0.1:" + std::to_string(port), "02:74:00:00:00:02", active)};
}

std::pair<ProcessResult, ProcessResult> run_pair(const Pair& pair) {
  auto passive = std::async(std::launch::async, [&] { return run_process(pair.first, tilehv::testing::with_limit(std::chrono::seconds(150))); });
  // The passive side listens first (QEMU's socket netdev needs its listener up before the connect).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto active = run_process(pair.second, tilehv::testing::with_limit(std::chrono::seconds(150)));
  return {passive.get(), active};
}

// Datagrams per second delivered, from the receiver's summary; 0 if the run failed.
double flood_rate(const ProcessResult& recv, std::uint64_t* received = nullptr) {
  std::smatch m;
  static const std::regex re(R"(udp-flood: received (\d+) of (\d+), bytes \d+, in (\d+) us)");
  if (!std::regex_search(recv.out, m, re)) return 0;
  if (received) *received = std::stoull(m[1]);
  return std::stod(m[1]) / (std::stod(m[3]) / 1e6);
}

double rtt_p50(const ProcessResult& ping) {
  std::smatch m;
  static const std::regex re(R"(rtt p50 (\d+) us)");
  return std::regex_search(ping.out, m, re) ? std::stod(m[1]) : 0;
}

}  // namespace

int main(int argc, char** argv) {
  g_opt = {{"--runs", "5"}, {"--count", "20000"}, {"--rounds", "2000"}};
  for (int i = 1; i + 1 < argc; i += 2) g_opt[argv[i]] = argv[i + 1];
  for (const char* required : {"--tilehv", "--qemu", "--guest-dir"}) {
    if (g_opt.count(required) == 0) {
      std::fprintf(stderr, "usage: tilehv-bench-net --tilehv BIN --qemu BIN --guest-dir DIR [--runs N] [--count N] [--rounds N]\n");
      return 2;
    }
  }
  const int runs = std::stoi(g_opt["--runs"]);
  const std::string count = g_opt["--count"];
  const std::string socket = "/tmp/tilehv-bench-net-" + std::to_string(::getpid()) + ".sock";
  tilehv::ioplane::PlaneConfig config;
  config.net_ports = {{"a", tilehv::vdevices::MacAddress{{0x02, 0x74, 0, 0, 0, 1}}, 1500, {}},
                      {"b", tilehv::vdevices::MacAddress{{0x02, 0x74, 0, 0, 0, 2}}, 1500, {}}};
  auto plane = tilehv::ioplane::IoPlane::create(config);
  if (!plane || !(*plane)->listen(socket)) {
    std::fprintf(stderr, "cannot start the I/O plane\n");
    return 1;
  }

  std::map<std::string, std::vector<double>> results;
  for (int run = 0; run < runs; ++run) {
    for (const std::string size : {"64", "1472"}) {
      const std::string recv = "role=recv ip=10.0.0.1 peer=10.0.0.2 idle_ms=3000 count=" + count + " size=" + size;
      const std::string send = "role=send ip=10.0.0.2 peer=10.0.0.1 count=" + count + " size=" + size;
      for (const std::string who : {"tilehv", "qemu"}) {
        const Pair p = who == "tilehv" ? tilehv_pair(socket, "udp-flood", recv, send) : qemu_pair("udp-flood", recv, send);
        const auto [receiver, sender] = run_pair(p);
        std::uint64_t got = 0;
        const double rate = flood_rate(receiver, &got);
        if (rate == 0) std::fprintf(stderr, "%s flood %s B failed:\n%s\n%s\n", who.c_str(), size.c_str(), receiver.describe().c_str(), sender.describe().c_str());
        results[who + " pps " + size] .push_back(rate);
        results[who + " delivered% " + size].push_back(100.0 * static_cast<double>(got) / std::stod(count));
      }
    }
    const std::string pong = "role=pong ip=10.0.0.1 peer=10.0.0.2 count=" + g_opt["--rounds"];
    const std::string ping = "role=ping ip=10.0.0.2 peer=10.0.0.1 size=64 count=" + g_opt["--rounds"];
    for (const std::string who : {"tilehv", "qemu"}) {
      const Pair p = who == "tilehv" ? tilehv_pair(socket, "udp-pingpong", pong, ping) : qemu_pair("udp-pingpong", pong, ping);
      const auto [ponger, pinger] = run_pair(p);
      const double rtt = rtt_p50(pinger);
      if (rtt == 0) std::fprintf(stderr, "%s pingpong failed:\n%s\n", who.c_str(), pinger.describe().c_str());
      results[who + " rtt"].push_back(rtt);
    }
  }
  ::unlink(socket.c_str());

  // Channels: channel-echo across two partitions, and the floor with the same number of wakeups.
  const std::string channel_socket = socket + ".ch";
  tilehv::ioplane::PlaneConfig channel_config;
  channel_config.vsock_ports = {{"server", 3}, {"client", 4}};
  channel_config.channels = {{"client", "server", 5000}};
  auto channel_plane = tilehv::ioplane::IoPlane::create(channel_config);
  if (!channel_plane || !(*channel_plane)->listen(channel_socket)) return 1;
  for (int run = 0; run < runs; ++run) {
    const auto one = [&](const std::string& port, const std::string& cmdline) {
      return std::vector<std::string>{g_opt["--tilehv"], "run", "--kernel", kernel("channel-echo"), "--vsock", "port:" + port,
                                      "--plane", channel_socket, "--cmdline", cmdline, "--timeout", "120"};
    };
    const auto [server, client] = run_pair({one("server", "role=server port=5000"),
                                            one("client", "role=client cid=3 port=5000 size=64 count=" + g_opt["--rounds"])});
    const double rtt = rtt_p50(client);
    if (rtt == 0) std::fprintf(stderr, "channel-echo failed:\n%s\n", client.describe().c_str());
    results["vsock rtt"].push_back(rtt);
    results["floor 8"].push_back(eventfd_ring_floor_us(8, 2000));
    results["floor 4"].push_back(eventfd_ring_floor_us(4, 2000));
  }
  ::unlink(channel_socket.c_str());

  // Sensors: a piezo sensor's vibration channel at its highest rate (10 kHz), read by sensor-logger.
  const std::string sensor_socket = socket + ".se";
  tilehv::ioplane::PlaneConfig sensor_config;
  tilehv::ioplane::PlaneSensor piezo;
  piezo.spec = tilehv::vdevices::sensors::SensorSpec{"piezo0", tilehv::vdevices::sensors::SensorKind::piezo, 4};
  sensor_config.sensors = {piezo};
  auto sensor_plane = tilehv::ioplane::IoPlane::create(sensor_config);
  if (!sensor_plane || !(*sensor_plane)->listen(sensor_socket)) return 1;
  for (int run = 0; run < runs; ++run) {
    const auto r = run_process({g_opt["--tilehv"], "run", "--kernel", kernel("sensor-logger"), "--console-port", "sensor.piezo0",
                                "--plane", sensor_socket, "--cmdline", "samples=1000000 ms=5000 rate=piezo0:vibration:10000000",
                                "--timeout", "60"},
                               tilehv::testing::with_limit(std::chrono::seconds(90)));
    std::smatch m;
    static const std::regex re(R"(piezo0\.vibration m/s\^2: n (\d+) .* first_ts (\d+) last_ts (\d+) dropped (\d+))");
    if (!std::regex_search(r.out, m, re)) {
      std::fprintf(stderr, "sensor-logger failed:\n%s\n", r.describe().c_str());
      continue;
    }
    const double n = std::stod(m[1]), span_s = (std::stod(m[3]) - std::stod(m[2])) / 1e9;
    results["sensor samples/s"].push_back(span_s > 0 ? n / span_s : 0);
    results["sensor dropped"].push_back(std::stod(m[4]));
  }
  ::unlink(sensor_socket.c_str());

  std::printf("| measure (median of %d runs) | tilehv | QEMU | tilehv / QEMU |\n|---|---|---|---|\n", runs);
  for (const std::string size : {"64", "1472"}) {
    const double t = median(results["tilehv pps " + size]), q = median(results["qemu pps " + size]);
    std::printf("| UDP datagrams/s, %s B payload | %.0f | %.0f | %.2f |\n", size.c_str(), t, q, q > 0 ? t / q : 0);
    std::printf("| throughput, %s B payload (Mbit/s) | %.1f | %.1f | |\n", size.c_str(), t * std::stod(size) * 8 / 1e6,
                q * std::stod(size) * 8 / 1e6);
    std::printf("| delivered, %s B payload (%%) | %.1f | %.1f | |\n", size.c_str(), median(results["tilehv delivered% " + size]),
                median(results["qemu delivered% " + size]));
  }
  const double t = median(results["tilehv rtt"]), q = median(results["qemu rtt"]);
  std::printf("| UDP round trip p50, 64 B (us) | %.0f | %.0f | %.2f |\n", t, q, q > 0 ? t / q : 0);
  const double v = median(results["vsock rtt"]), f8 = median(results["floor 8"]), f4 = median(results["floor 4"]);
  std::printf("| channel round trip p50, 64 B (us) | %.0f | floor, 8 wakeups: %.0f; 4 cross-process wakeups: %.0f | %.2f of the 8-wakeup floor |\n",
              v, f8, f4, f8 > 0 ? v / f8 : 0);
  std::printf("| sensor samples/s delivered (piezo vibration at 10 kHz) | %.0f | dropped: %.0f | |\n",
              median(results["sensor samples/s"]), median(results["sensor dropped"]));
  const double ratio64 = median(results["tilehv pps 64"]) / std::max(1.0, median(results["qemu pps 64"]));
  std::printf("\ntarget: datagrams/s at 64 B >= 2x QEMU: %.2fx %s\n", ratio64, ratio64 >= 2 ? "met" : "NOT met");
  std::printf("target: channel round trip p50 <= 1.5x the floor: %.2fx %s\n", f8 > 0 ? v / f8 : 0,
              f8 > 0 && v / f8 <= 1.5 ? "met" : "NOT met");
  return 0;
}
