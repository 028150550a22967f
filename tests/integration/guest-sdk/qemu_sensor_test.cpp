// Integration test: the SDK's sensor driver and the sensor-logger example against QEMU's virtio-serial
// on microvm. Each sensor is a virtserialport named sensor.<name> on a unix socket; the test plays
// the tile's end of it with the host sensors library (a SensorPort over a seeded SyntheticSource),
// answers the guest's commands through the same port, and checks the guest's statistics and
// digests against its own computation over the lines it sent.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sensors/sensor_port.hpp"
#include "sensors/synthetic_source.hpp"
#include "support/guest_kernels.hpp"
#include "support/kvm_available.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace tilehv {
namespace {

namespace sensors = vdevices::sensors;

constexpr const char* kQemu = "/usr/bin/qemu-system-x86_64";
constexpr std::uint64_t kSecond = 1'000'000'000;

// QEMU reports a guest exit value v as (v << 1) | 1.
int qemu_status(int guest_exit) { return (guest_exit << 1) | 1; }

// The far end of one sensor port: what the tile's I/O plane does for a sensor, over the chardev.
struct TileEnd {
  std::string port_name;                     // the virtserialport's name
  std::unique_ptr<sensors::SensorPort> port;  // null: `raw` is sent instead
  std::string raw;
  // Virtual time: `hold_ns` (0: none at all) until the guest's first command line, then
  // `horizon_ns`; without wait_for_command `horizon_ns` at once. Holding makes what the guest sees
  // before and after its command independent of timing.
  bool wait_for_command = false;
  std::uint64_t hold_ns = 0;
  std::uint64_t horizon_ns = 0;
  std::map<std::size_t, std::string> inject;  // wire-only text after the N-th line of the port
  std::string corrupt_from, corrupt_to;       // replaced once, in the first line that holds it
  std::size_t max_chunk = 0;                  // bytes per socket write; 0: what the socket takes

  int fd = -1;
  bool closed = false;
  std::string clean;     // everything the port produced
  std::string wire;      // everything written to the socket
  std::string commands;  // everything the guest wrote
  std::string pending;
  std::string partial;
  std::size_t lines_out = 0;
  bool raw_queued = false;
};

std::unique_ptr<TileEnd> synthetic_end(sensors::SensorKind kind, std::uint64_t seed, std::uint64_t horizon_ns) {
  auto end = std::make_unique<TileEnd>();
  auto sensor = sensors::Sensor::create({std::string(sensors::kind_name(kind)) + "0", kind, 4});
  auto source = sensors::SyntheticSource::create(std::move(*sensor), sensors::SyntheticParams{seed});
  // The factories only refuse bad names, seeds and options; these are fixed and valid.
  end->port = std::move(*sensors::SensorPort::create(std::move(*source)));
  end->port_name = end->port->port_name();
  end->horizon_ns = horizon_ns;
  return end;
}

// Moves the port's new lines to `pending`, adding the injected text and the corruption on the wire.
void pump(TileEnd& e) {
  if (!e.port) {
    if (!e.raw_queued) e.pending += e.raw;
    e.raw_queued = true;
    return;
  }
  const bool released = !e.wait_for_command || e.commands.find('\n') != std::string::npos;
  // advance_to fails only when a source cannot read its input; a synthetic source always can. While
  // held at 0 nothing is produced, not even the samples stamped 0.
  if (released || e.hold_ns > 0) (void)e.port->advance_to(released ? e.horizon_ns : e.hold_ns);
  std::uint8_t buffer[4096];
  while (const std::size_t n = e.port->read(buffer)) {
    // SAFETY: stream bytes viewed as the chars they are.
    e.clean.append(reinterpret_cast<const char*>(buffer), n);
    e.partial.append(reinterpret_cast<const char*>(buffer), n);
  }
  std::size_t newline = 0;
  while ((newline = e.partial.find('\n')) != std::string::npos) {
    std::string line = e.partial.substr(0, newline + 1);
    e.partial.erase(0, newline + 1);
    const std::size_t at = e.corrupt_from.empty() ? std::string::npos : line.find(e.corrupt_from);
    if (at != std::string::npos) {
      line.replace(at, e.corrupt_from.size(), e.corrupt_to);
      e.corrupt_from.clear();
    }
    e.pending += line;
    ++e.lines_out;
    if (auto it = e.inject.find(e.lines_out); it != e.inject.end()) e.pending += it->second;
  }
}

// Serves every end until QEMU closed all sockets or `limit` passed.
void serve(const std::vector<TileEnd*>& ends, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    std::vector<pollfd> fds;
    for (TileEnd* e : ends) {
      if (e->fd >= 0 && !e->closed) {
        fds.push_back({e->fd, static_cast<short>(POLLIN | (e->pending.empty() ? 0 : POLLOUT)), 0});
      }
    }
    if (fds.empty()) return;
    ::poll(fds.data(), fds.size(), 5);
    for (TileEnd* e : ends) {
      if (e->fd < 0 || e->closed) continue;
      char in[4096];
      const ssize_t got = ::read(e->fd, in, sizeof in);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        e->closed = true;
        continue;
      }
      if (got > 0) {
        e->commands.append(in, static_cast<std::size_t>(got));
        // SAFETY: the guest's bytes, as bytes.
        std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(in), static_cast<std::size_t>(got));
        // The port consumes all of it while fewer than 64 replies wait, which these guests never reach.
        while (e->port && !bytes.empty()) {
          const std::size_t taken = e->port->write(bytes);
          if (taken == 0) {
            ADD_FAILURE() << e->port_name << " stopped taking the guest's commands";
            break;
          }
          bytes = bytes.subspan(taken);
        }
      }
      pump(*e);
      if (e->pending.empty()) continue;
      const std::size_t size = e->max_chunk == 0 ? e->pending.size() : std::min(e->max_chunk, e->pending.size());
      const ssize_t sent = ::write(e->fd, e->pending.data(), size);
      if (sent > 0) {
        e->wire.append(e->pending, 0, static_cast<std::size_t>(sent));
        e->pending.erase(0, static_cast<std::size_t>(sent));
        // Small pieces with a pause between them reach the guest as small buffers.
        if (e->max_chunk != 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
      }
    }
  }
}

// A connected, non-blocking client socket, retried until QEMU has created the listening one.
int connect_unix(const std::string& path, std::chrono::seconds limit) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    // SAFETY: sockaddr_un is the sockaddr the AF_UNIX socket expects.
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      return fd;
    }
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

// Boots sensor-logger with one virtserialport per end, plays the tile for each, and returns QEMU's
// result once it exited and every end is served.
testing::ProcessResult run_logger(const std::vector<TileEnd*>& ends, const std::string& cmdline) {
  testing::TempDir dir;
  std::vector<std::string> argv = {
      kQemu, "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=off,acpi=off", "-enable-kvm", "-cpu",
      "host,-arch-capabilities", "-m", "64M", "-smp", "1", "-nodefaults", "-no-user-config", "-nographic", "-serial",
      "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-global", "virtio-mmio.force-legacy=false",
      "-device", "virtio-serial-device"};
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < ends.size(); ++i) {
    paths.push_back((dir.path() / ("s" + std::to_string(i) + ".sock")).string());
    const std::string id = "c" + std::to_string(i);
    argv.insert(argv.end(), {"-chardev", "socket,id=" + id + ",path=" + paths.back() + ",server=on,wait=off",
                             "-device", "virtserialport,chardev=" + id + ",name=" + ends[i]->port_name});
  }
  argv.insert(argv.end(), {"-kernel", testing::guest_kernel("sensor-logger"), "-append", cmdline});
  testing::ProcessResult result;
  std::thread runner([&] { result = testing::run_process(argv, testing::with_limit(std::chrono::seconds(120))); });
  for (std::size_t i = 0; i < ends.size(); ++i) ends[i]->fd = connect_unix(paths[i], std::chrono::seconds(30));
  serve(ends, std::chrono::seconds(120));
  runner.join();
  for (TileEnd* e : ends) {
    if (e->fd >= 0) ::close(e->fd);
  }
  return result;
}

std::string milli(std::int64_t value) {
  const std::uint64_t magnitude = value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
  char text[40];
  std::snprintf(text, sizeof text, "%s%llu.%03llu", value < 0 ? "-" : "", static_cast<unsigned long long>(magnitude / 1000),
                static_cast<unsigned long long>(magnitude % 1000));
  return text;
}

std::uint64_t fnv1a64(const std::string& bytes, std::uint64_t hash) {
  for (const unsigned char c : bytes) hash = (hash ^ c) * 0x100000001b3ULL;
  return hash;
}

// What sensor-logger must print for a stream: each channel's first `wanted` samples, counted from
// the `from_header`-th header on, and the digest of every sample line up to the one that completed
// the last channel.
struct Expected {
  std::vector<std::string> lines;
  std::uint64_t samples = 0;
};

Expected expect_log(const sensors::Sensor& sensor, const std::string& stream, std::uint64_t wanted,
                    int from_header = 1) {
  struct Stats {
    std::uint64_t n = 0;
    std::int64_t min = 0, max = 0, sum = 0;
    std::uint64_t first = 0, last = 0;
  };
  std::vector<Stats> stats(sensor.channels().size());
  std::uint64_t digest = 0xcbf29ce484222325ULL;
  int headers = 0;
  std::size_t pos = 0;
  auto complete = [&] { return std::all_of(stats.begin(), stats.end(), [&](const Stats& s) { return s.n >= wanted; }); };
  while (pos < stream.size() && !complete()) {
    const std::size_t nl = stream.find('\n', pos);
    if (nl == std::string::npos) break;
    const std::string line = stream.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.rfind("#tilehv-sensor", 0) == 0) ++headers;
    if (headers < from_header || line.empty() || line[0] < '0' || line[0] > '9') continue;
    unsigned long long seq = 0, ts = 0;
    unsigned channel = 0;
    long long value = 0;
    if (std::sscanf(line.c_str(), "%llu %llu %u %lld", &seq, &ts, &channel, &value) != 4) continue;
    digest = fnv1a64(line + "\n", digest);
    Stats& s = stats.at(channel);
    if (s.n >= wanted) continue;
    if (s.n == 0) {
      s.min = s.max = value;
      s.first = ts;
    }
    s.min = std::min<std::int64_t>(s.min, value);
    s.max = std::max<std::int64_t>(s.max, value);
    s.sum += value;
    s.last = ts;
    ++s.n;
  }
  Expected out;
  for (std::size_t i = 0; i < stats.size(); ++i) {
    const Stats& s = stats[i];
    const auto n = static_cast<std::int64_t>(s.n);
    std::int64_t mean = n == 0 ? 0 : s.sum / n;
    if (n != 0 && 2 * std::abs(s.sum % n) >= n) mean += s.sum < 0 ? -1 : 1;
    const sensors::Channel& c = sensor.channel(i);
    out.lines.push_back("sensor-logger: " + sensor.name() + "." + c.name + " " + c.unit + ": n " + std::to_string(s.n) +
                        " min " + milli(s.min) + " mean " + milli(mean) + " max " + milli(s.max) + " first_ts " +
                        std::to_string(s.first) + " last_ts " + std::to_string(s.last) + " dropped 0");
    out.samples += s.n;
  }
  char digest_line[80];
  std::snprintf(digest_line, sizeof digest_line, "sensor-logger: %s digest %016llx", sensor.name().c_str(),
                static_cast<unsigned long long>(digest));
  out.lines.emplace_back(digest_line);
  return out;
}

bool has_line(const testing::ProcessResult& result, const std::string& line) {
  const std::vector<std::string> lines = result.out_lines();
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

// The stream's first line that starts with `prefix`, without its newline.
std::string first_line_with(const std::string& stream, const std::string& prefix) {
  const std::size_t at = stream.find("\n" + prefix);
  if (at == std::string::npos) return "";
  return stream.substr(at + 1, stream.find('\n', at + 1) - at - 1);
}

class QemuSensor : public ::testing::Test {
 protected:
  void SetUp() override {
    TILEHV_REQUIRE_KVM();
    if (::access(kQemu, X_OK) != 0) GTEST_SKIP() << kQemu << " is not installed (scripts/test.sh installs it)";
  }
};

TEST_F(QemuSensor, LogsEveryChannelOfEverySensor) {
  // 1 Hz channels need 99 s of virtual time for 100 samples, 10 Hz ones 9.9 s; the horizons leave
  // more than that, which the logger must not count.
  auto thermal = synthetic_end(sensors::SensorKind::thermal, 7, 120 * kSecond);
  auto awg = synthetic_end(sensors::SensorKind::awg, 8, 120 * kSecond);
  auto mmwave = synthetic_end(sensors::SensorKind::mmwave, 15, 12 * kSecond);
  const testing::ProcessResult result = run_logger({thermal.get(), awg.get(), mmwave.get()}, "samples=100");

  EXPECT_EQ(result.status, qemu_status(0)) << result.describe();
  std::uint64_t samples = 0;
  for (TileEnd* e : {thermal.get(), awg.get(), mmwave.get()}) {
    ASSERT_GE(e->fd, 0) << "no connection for " << e->port_name << "\n" << result.describe();
    const Expected expected = expect_log(e->port->sensor(), e->clean, 100);
    for (const std::string& line : expected.lines) EXPECT_TRUE(has_line(result, line)) << line << "\n" << result.describe();
    samples += expected.samples;
    EXPECT_EQ(e->commands, "");
  }
  EXPECT_EQ(samples, 600u);
  EXPECT_TRUE(has_line(result, "sensor-logger: thermal0.temperature: unit degC, range -40.000..125.000, rate 1000 mHz "
                               "(100..10000)"))
      << result.describe();
  EXPECT_TRUE(has_line(result, "sensor-logger: done, 3 sensors, 6 channels, 600 samples")) << result.describe();
  // The first thermal line in full, as the documentation shows it.
  EXPECT_NE(result.out.find("sensor-logger: thermal0.temperature degC: n 100 min "), std::string::npos);
  EXPECT_NE(result.out.find(" first_ts 0 last_ts 99000000000 dropped 0\n"), std::string::npos) << result.describe();
}

TEST_F(QemuSensor, RequestsRatesAndReportsTheReplies) {
  auto thermal = synthetic_end(sensors::SensorKind::thermal, 21, 30 * kSecond);
  auto awg = synthetic_end(sensors::SensorKind::awg, 22, 30 * kSecond);
  thermal->wait_for_command = awg->wait_for_command = true;
  const testing::ProcessResult result = run_logger(
      {thermal.get(), awg.get()}, "samples=20 rate=thermal0:temperature:2000,awg0:humidity:99999");

  EXPECT_EQ(result.status, qemu_status(0)) << result.describe();
  EXPECT_EQ(thermal->commands, "rate temperature 2000\n");
  EXPECT_EQ(awg->commands, "rate humidity 99999\n");
  const std::string ok = first_line_with(thermal->clean, "#ok rate 0 2000 from=");
  ASSERT_FALSE(ok.empty()) << thermal->clean;
  EXPECT_EQ(ok, "#ok rate 0 2000 from=0");
  EXPECT_TRUE(has_line(result, "sensor-logger: thermal0.temperature: rate 2000 mHz from 0")) << result.describe();
  const std::string refused = first_line_with(awg->clean, "#error ");
  EXPECT_EQ(refused, "#error rate 1 99999: 99999 mHz is above max_rate 10000 mHz");
  EXPECT_TRUE(has_line(result, "sensor-logger: awg0.humidity: rate 99999 mHz refused: " + refused.substr(7)))
      << result.describe();
  for (TileEnd* e : {thermal.get(), awg.get()}) {
    for (const std::string& line : expect_log(e->port->sensor(), e->clean, 20).lines) {
      EXPECT_TRUE(has_line(result, line)) << line << "\n" << result.describe();
    }
  }
  // 20 samples at 2 Hz from time 0.
  EXPECT_NE(result.out.find(" first_ts 0 last_ts 9500000000 dropped 0\n"), std::string::npos) << result.describe();
}

TEST_F(QemuSensor, SkipsMalformedLinesInAFragmentedStream) {
  auto thermal = synthetic_end(sensors::SensorKind::thermal, 31, 40 * kSecond);
  thermal->max_chunk = 7;
  // After the header (2 lines): eight malformed lines and two metadata lines of unknown kinds.
  thermal->inject[2] = "12 34\n5 6 7 x8\n9 10 99 1\n" + std::string(300, '7') + "\n\x01\x02garbage\n";
  thermal->inject[10] = "18446744073709551616 0 0 0\n#future-line whatever\n0 0 0 999999999\nhello\n#ok describe\n";
  const testing::ProcessResult result = run_logger({thermal.get()}, "samples=30");

  EXPECT_EQ(result.status, qemu_status(0)) << result.describe();
  for (const std::string& line : expect_log(thermal->port->sensor(), thermal->clean, 30).lines) {
    EXPECT_TRUE(has_line(result, line)) << line << "\n" << result.describe();
  }
  EXPECT_NE(result.out.find("sensor-logger: thermal0 stream: "), std::string::npos) << result.describe();
  EXPECT_NE(result.out.find(" 30 samples, 8 malformed, 0 unframed, 2 unknown, 0 dropped, 0 seq breaks, 0 faults\n"),
            std::string::npos)
      << result.describe();
  EXPECT_NE(result.out.find("sensor-logger: thermal0: skipped a malformed line (line too long)"), std::string::npos)
      << result.describe();
}

TEST_F(QemuSensor, AsksForTheDescriptionAgainWhenItWasCorrupted) {
  // The #channel line arrives corrupted, so the first two samples cannot be interpreted; the guest
  // asks with "describe", and the header it gets back frames the rest.
  auto thermal = synthetic_end(sensors::SensorKind::thermal, 41, 40 * kSecond);
  thermal->corrupt_from = "scale=1000";
  thermal->corrupt_to = "scale=1001";
  thermal->wait_for_command = true;
  thermal->hold_ns = 1 * kSecond;
  const testing::ProcessResult result = run_logger({thermal.get()}, "samples=25");

  EXPECT_EQ(result.status, qemu_status(0)) << result.describe();
  EXPECT_EQ(thermal->commands, "describe\n");
  for (const std::string& line : expect_log(thermal->port->sensor(), thermal->clean, 25, 2).lines) {
    EXPECT_TRUE(has_line(result, line)) << line << "\n" << result.describe();
  }
  EXPECT_NE(result.out.find(" 25 samples, 1 malformed, 2 unframed, 0 unknown, 0 dropped, 0 seq breaks, 0 faults\n"),
            std::string::npos)
      << result.describe();
  EXPECT_NE(result.out.find(" first_ts 2000000000 last_ts 26000000000 dropped 0\n"), std::string::npos)
      << result.describe();
}

TEST_F(QemuSensor, StopsWhenTheTimeLimitPasses) {
  // The tile holds virtual time at 4 s: five samples come, the hundred asked for never do.
  auto thermal = synthetic_end(sensors::SensorKind::thermal, 51, 200 * kSecond);
  thermal->wait_for_command = true;
  thermal->hold_ns = 4 * kSecond;
  const testing::ProcessResult result = run_logger({thermal.get()}, "samples=100 ms=500");

  EXPECT_EQ(result.status, qemu_status(0)) << result.describe();
  for (const std::string& line : expect_log(thermal->port->sensor(), thermal->clean, 100).lines) {
    EXPECT_TRUE(has_line(result, line)) << line << "\n" << result.describe();
  }
  EXPECT_NE(result.out.find("sensor-logger: thermal0.temperature degC: n 5 min "), std::string::npos)
      << result.describe();
  EXPECT_TRUE(has_line(result, "sensor-logger: done, 1 sensors, 1 channels, 5 samples")) << result.describe();
}

TEST_F(QemuSensor, ExitsNonzeroOnAStreamBeyondRepair) {
  TileEnd end;
  end.port_name = "sensor.thermal0";
  end.raw = "#tilehv-sensor v2 name=thermal0 kind=thermal source=synthetic channels=1\n0 0 0 21000\n";
  const testing::ProcessResult result = run_logger({&end}, "samples=10");

  EXPECT_EQ(result.status, qemu_status(2)) << result.describe();
  EXPECT_TRUE(has_line(result, "sensor-logger: thermal0: stream malformed beyond repair: the header names a wire "
                               "format version other than v1 (line \"#tilehv-sensor v2 name=thermal0 kind=thermal "
                               "source=synthetic channels=1\")"))
      << result.describe();
}

TEST_F(QemuSensor, ExitsNonzeroWithoutASensorPort) {
  TileEnd end;
  end.port_name = "echo";
  const testing::ProcessResult result = run_logger({&end}, "samples=10");

  EXPECT_EQ(result.status, qemu_status(1)) << result.describe();
  EXPECT_NE(result.out.find("sensor-logger: no sensor.* port among the console's"), std::string::npos)
      << result.describe();
}

}  // namespace
}  // namespace tilehv
