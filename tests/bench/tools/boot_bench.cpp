// tilehv-bench-boot: cold-starts the same kernel with tilehv, QEMU microvm and the floor, alternating,
// and reports medians of boot latency (exec to the first console line), lifecycle (exec to reaped),
// CPU time and peak RSS, with the ratios the targets are stated in.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace {

struct Sample {
  double boot_ms = 0, life_ms = 0, cpu_ms = 0, rss_mib = 0;
  bool ok = false;
};

Sample launch(const std::vector<std::string>& argv, const std::string& expect) {
  const tilehv::testing::ProcessResult r =
      tilehv::testing::run_process(argv, tilehv::testing::with_limit(std::chrono::seconds(60)));
  Sample s;
  s.ok = r.exited && r.first_line.has_value() && r.out.find(expect) != std::string::npos;
  if (r.first_line) s.boot_ms = r.first_line->count() * 1e3;
  s.life_ms = r.elapsed.count() * 1e3;
  s.cpu_ms = r.cpu_time.count() * 1e3;
  s.rss_mib = static_cast<double>(r.peak_rss_kib) / 1024.0;
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
