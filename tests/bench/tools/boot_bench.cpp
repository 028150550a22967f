// tilehv-bench-boot: cold-starts the same kernel with tilehv, QEMU microvm and the floor, alternating,
// and reports medians of boot latency (exec to the first console line), lifecycle (exec to reaped),
// CPU time and peak RSS, with the ratios the targets are stated in.
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Sample {
  double boot_ms = 0, life_ms = 0, cpu_ms = 0, rss_mib = 0;
  bool ok = false;
};

Sample launch(const std::vector<std::string>& argv, const std::string& expect) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return {};
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto start = Clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDERR_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  Sample s;
  std::string text;
  char buf[4096];
  bool first_line = false;
  for (;;) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (!first_line && text.find('\n') != std::string::npos) {
      first_line = true;
      s.boot_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    }
  }
  ::close(out[0]);
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  s.life_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  s.cpu_ms = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e3 +
             static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e3;
  s.rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  s.ok = first_line && text.find(expect) != std::string::npos;
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : (v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2);
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt = {{"--runs", "15"}, {"--memory", "64"}, {"--expect", "Hello from tilehv guest"}};
  for (int i = 1; i + 1 < argc; i += 2) opt[argv[i]] = argv[i + 1];
  for (const char* required : {"--kernel", "--tilehv", "--floor", "--qemu"}) {
    if (opt.count(required) == 0) {
      std::fprintf(stderr, "usage: tilehv-bench-boot --kernel ELF --tilehv BIN --floor BIN --qemu BIN [--runs N] [--memory MIB]\n");
      return 2;
    }
  }
  const int runs = std::stoi(opt["--runs"]);
  const std::string mem = opt["--memory"];
  const std::map<std::string, std::vector<std::string>> commands = {
      {"tilehv", {opt["--tilehv"], "run", "--kernel", opt["--kernel"], "--memory", mem + "M"}},
      {"qemu", {opt["--qemu"], "-M", "microvm,x-option-roms=off,isa-serial=on,rtc=off", "-enable-kvm", "-cpu",
                "host,-arch-capabilities", "-m", mem + "M", "-smp", "1", "-nodefaults", "-no-user-config",
                "-nographic", "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel",
                opt["--kernel"]}},
      {"floor", {opt["--floor"], opt["--kernel"], mem}},
  };
  const std::vector<std::string> order = {"tilehv", "qemu", "floor"};
  std::map<std::string, std::vector<Sample>> samples;
  for (int r = 0; r < runs; ++r) {
    // Alternate, rotating the start, so drift on the host hits every contender alike.
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::string& name = order[(k + static_cast<std::size_t>(r)) % order.size()];
      Sample s = launch(commands.at(name), opt["--expect"]);
      if (!s.ok) {
        std::fprintf(stderr, "%s run %d did not print '%s'\n", name.c_str(), r, opt["--expect"].c_str());
        return 1;
      }
      samples[name].push_back(s);
    }
  }
  std::map<std::string, Sample> med;
  for (const auto& name : order) {
    std::vector<double> b, l, c, m;
    for (const Sample& s : samples[name]) b.push_back(s.boot_ms), l.push_back(s.life_ms), c.push_back(s.cpu_ms), m.push_back(s.rss_mib);
    med[name] = {median(b), median(l), median(c), median(m), true};
  }
  std::printf("| runner | boot to first line (ms) | lifecycle (ms) | CPU time (ms) | peak RSS (MiB) |\n");
  std::printf("|---|---:|---:|---:|---:|\n");
  for (const auto& name : order) {
    const Sample& s = med[name];
    std::printf("| %s | %.2f | %.2f | %.2f | %.1f |\n", name.c_str(), s.boot_ms, s.life_ms, s.cpu_ms, s.rss_mib);
  }
  const Sample& t = med["tilehv"];
  const Sample& q = med["qemu"];
  const Sample& f = med["floor"];
  std::printf("\nMedians of %d runs each, alternating. Ratios (target in brackets):\n\n", runs);
  const auto line = [](const char* what, double v, const char* cmp, double target) {
    const bool pass = v <= target;
    std::printf("- %s: %.3f (%s %.3f) %s\n", what, v, cmp, target, pass ? "PASS" : "FAIL");
    return pass;
  };
  bool ok = true;
  ok &= line("boot latency tilehv / qemu", t.boot_ms / q.boot_ms, "<=", 0.1);
  ok &= line("boot latency tilehv / floor", t.boot_ms / f.boot_ms, "<=", 1.5);
  ok &= line("lifecycle tilehv / qemu", t.life_ms / q.life_ms, "<=", 0.1);
  ok &= line("lifecycle tilehv / floor", t.life_ms / f.life_ms, "<=", 1.5);
  ok &= line("peak RSS tilehv / qemu", t.rss_mib / q.rss_mib, "<=", 1.0 / 6.0);
  std::printf("- CPU time tilehv / qemu: %.3f\n", t.cpu_ms / q.cpu_ms);
  return ok ? 0 : 3;
}
