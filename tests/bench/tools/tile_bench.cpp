// tilehv-bench-tile: the tile daemon at scale, with a real tilehvd (jailed when run as root).
//
// 1. apply: wall time of POST /v1/policy/apply of N idle partitions (halt, 16 MiB) until it answers
//    200 (every VMM answered on its control socket), against the floor measured in the same run: N
//    bare `tilehv run` started all at once until each answers "status" on its control socket (and,
//    for context, one after another, and the same apply on an unjailed daemon).
// 2. idle: CPU used by tilehvd and by all the VMMs of M idle partitions over fixed windows, in % of
//    one core (the scheduler's per-thread nanoseconds, and utime + stime from /proc/PID/stat), with
//    the whole host's busy time for context.
// 3. API: requests/s and latency of GET /v1/partitions and /v1/health with 1 and 4 kept-alive
//    clients, against the same round trips (same bytes each way) over a bare unix socket.
// Medians of several runs throughout.
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "eventfd_floor.hpp"
#include "policy/policy.hpp"
#include "support/process.hpp"
#include "tile_bench_api.hpp"
#include "tile_bench_processes.hpp"

namespace {

using tilehv::bench::BareVmm;
using tilehv::bench::Daemon;
using tilehv::bench::median;
using Clock = std::chrono::steady_clock;

std::map<std::string, std::string> g_opt;
std::filesystem::path g_work;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }
// The message of an API error answer, or the client's error.
std::string why(const tl::expected<tilehv::api::HttpResponse, std::string>& answer) {
  if (!answer) return answer.error();
  const auto j = nlohmann::json::parse(answer->body, nullptr, false);
  return j.is_object() ? j.value("message", answer->body) : answer->body;
}

std::string halt_kernel() { return g_opt["--guest-dir"] + "/halt.elf"; }

std::string policy_text(int partitions, bool jailed = true) {
  static const std::string sha = tilehv::testing::run_process({"/usr/bin/sha256sum", halt_kernel()}).out.substr(0, 64);
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  nlohmann::json p{{"apiVersion", "tilehv.io/v1"},
                   {"tile", {{"name", "bench"}, {"cpus", cpus > 1 ? "0-" + std::to_string(cpus - 1) : "0"}, {"memory", "16G"}}},
                   {"partitions", nlohmann::json::array()}};
  for (int i = 0; i < partitions; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "p%03d", i);
    p["partitions"].push_back({{"name", name},
                               {"image", halt_kernel()},
                               {"sha256", sha},
                               {"memory", g_opt["--memory"]},
                               {"restart", {{"policy", "never"}}}});
  }
  if (!jailed || ::geteuid() != 0) p["development"] = {{"unjailed", tilehv::policy::kUnjailedSentence}};
  return p.dump();
}

// Milliseconds since the epoch of an event's time, "2026-11-26T14:29:01.123Z".
double event_ms(const std::string& time) {
  std::tm t{};
  if (time.size() < 23 || ::strptime(time.c_str(), "%Y-%m-%dT%H:%M:%S", &t) == nullptr) return 0;
  return static_cast<double>(::timegm(&t)) * 1e3 + std::stod(time.substr(20, 3));
}

// From the daemon's events: ms from the apply's start to the first and to the last partition.started
// (recorded as each VMM is found ready).
std::pair<double, double> ready_span(const Daemon& daemon, double apply_start_epoch_ms) {
  std::ifstream in(daemon.state() / "events.jsonl");
  std::vector<double> started;
  for (std::string line; std::getline(in, line);) {
    const auto e = nlohmann::json::parse(line, nullptr, false);
    if (e.is_object() && e.value("type", "") == "partition.started") started.push_back(event_ms(e.value("time", "")));
  }
  if (started.empty()) return {0, 0};
  return {*std::min_element(started.begin(), started.end()) - apply_start_epoch_ms,
          *std::max_element(started.begin(), started.end()) - apply_start_epoch_ms};
}

// N bare VMMs, all started at once or each after the previous is ready; ms until all answer.
double floor_ms(int n, bool parallel, const std::string& tag) {
  std::vector<BareVmm> vmms;
  vmms.reserve(static_cast<std::size_t>(n));
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::seconds(120);
  const auto wait_ready = [&](std::size_t from) {
    for (std::size_t i = from; i < vmms.size(); ++i) {
      while (!vmms[i].ready()) {
        if (vmms[i].failed() || Clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
    }
    return true;
  };
  for (int i = 0; i < n; ++i) {
    vmms.emplace_back(g_opt["--tilehv"], halt_kernel(), g_opt["--memory"], g_work / tag / std::to_string(i));
    if (!parallel && !wait_ready(vmms.size() - 1)) return 0;
  }
  if (parallel && !wait_ready(0)) return 0;
  return ms_since(t0);
}

struct DaemonApply {
  double apply_ms = 0;     // POST /v1/policy/apply until its 200
  double validate_ms = 0;  // POST /v1/policy/validate of the same policy: loading and every check
  double spawn_ms = 0;     // first VMM process start to last (their start times, 10 ms ticks)
  double first_ready_ms = 0, last_ready_ms = 0;
  double stop_ms = 0;      // POST /v1/partitions/stop
};

DaemonApply daemon_apply(const std::string& tag, int n, bool jailed) {
  DaemonApply r;
  Daemon daemon(g_opt["--tilehvd"], g_opt["--tilehv"], g_work / tag, jailed);
  if (!daemon.start()) {
    std::fprintf(stderr, "tilehvd did not answer:\n%s\n", daemon.log_tail().c_str());
    return r;
  }
  const std::string policy = policy_text(n, jailed);
  auto t0 = Clock::now();
  if (const auto v = daemon.call("POST", "/v1/policy/validate?name=bench.json", policy); v && v->status == 200) r.validate_ms = ms_since(t0);
  const double start_epoch_ms =
      std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
  t0 = Clock::now();
  const auto answer = daemon.call("POST", "/v1/policy/apply?name=bench.json", policy);
  const double apply_ms = ms_since(t0);
  if (!answer || answer->status != 200) {
    std::fprintf(stderr, "apply failed: %s\n%s\n", why(answer).c_str(), daemon.log_tail().c_str());
    return r;
  }
  int running = 0;
  for (const auto& p : daemon.partitions()) running += p.value("state", "") == "running" ? 1 : 0;
  const auto vmms = daemon.vmm_processes();
  if (running != n || static_cast<int>(vmms.size()) != n) {
    std::fprintf(stderr, "after the apply %d of %d partitions run (%zu VMM processes)\n", running, n, vmms.size());
    return r;
  }
  r.apply_ms = apply_ms;
  std::tie(r.first_ready_ms, r.last_ready_ms) = ready_span(daemon, start_epoch_ms);
  const auto [first, last] = std::minmax_element(vmms.begin(), vmms.end(), [](const auto& a, const auto& b) { return a.start_ticks < b.start_ticks; });
  r.spawn_ms = static_cast<double>(last->start_ticks - first->start_ticks) * 1e3 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  const auto stop_ms = daemon.shut_down();
  if (!stop_ms) std::fprintf(stderr, "tear-down: some VMMs had to be killed\n");
  r.stop_ms = stop_ms.value_or(0);
  return r;
}

void bench_apply() {
  const int runs = std::stoi(g_opt["--apply-runs"]), n = std::stoi(g_opt["--partitions"]);
  const bool root = ::geteuid() == 0;
  std::map<std::string, std::vector<double>> m;
  std::printf("### apply of %d partitions (halt, %s), %d runs\n\n", n, g_opt["--memory"].c_str(), runs);
  std::printf("| run | apply until 200 (ms) | floor: %d bare VMMs at once (ms) | apply / floor | floor: one after another (ms) | "
              "validate (ms) | VMM starts spread over (ms) | first / last ready (ms) | stop all (ms) | apply %s (ms) |\n",
              n, root ? "unjailed (--no-jail)" : "(n/a: not root)");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  const auto row = [&](const std::string& label, double a, double fp, double fs, double v, double sp, double fr, double lr,
                       double st, double u) {
    std::printf("| %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.0f | %.0f / %.0f | %.0f | %.0f |\n", label.c_str(), a, fp,
                fp > 0 ? a / fp : 0, fs, v, sp, fr, lr, st, u);
  };
  for (int run = 0; run < runs; ++run) {
    const std::string id = std::to_string(run);
    const double fp = floor_ms(n, true, "floor-parallel-" + id);
    const double fs = floor_ms(n, false, "floor-sequential-" + id);
    const DaemonApply j = daemon_apply("apply-" + id, n, true);
    const DaemonApply u = root ? daemon_apply("apply-unjailed-" + id, n, false) : DaemonApply{};
    row(std::to_string(run + 1), j.apply_ms, fp, fs, j.validate_ms, j.spawn_ms, j.first_ready_ms, j.last_ready_ms, j.stop_ms, u.apply_ms);
    std::fflush(stdout);
    m["a"].push_back(j.apply_ms), m["fp"].push_back(fp), m["fs"].push_back(fs), m["r"].push_back(fp > 0 ? j.apply_ms / fp : 0);
    m["v"].push_back(j.validate_ms), m["sp"].push_back(j.spawn_ms), m["fr"].push_back(j.first_ready_ms);
    m["lr"].push_back(j.last_ready_ms), m["st"].push_back(j.stop_ms), m["u"].push_back(u.apply_ms);
  }
  const double a = median(m["a"]);
  std::printf("| median | %.0f | %.0f | %.2f | %.0f | %.0f | %.0f | %.0f / %.0f | %.0f | %.0f |\n\n", a, median(m["fp"]),
              median(m["r"]), median(m["fs"]), median(m["v"]), median(m["sp"]), median(m["fr"]), median(m["lr"]), median(m["st"]),
              median(m["u"]));
  std::printf("target: %d partitions applied in under 3 s: %.2f s %s\n\n", n, a / 1e3, a > 0 && a < 3000 ? "met" : "NOT met");
}

// Busy and total jiffies of the whole host, from /proc/stat's first line.
std::pair<double, double> host_jiffies() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  double busy = 0, total = 0;
  for (int i = 0; i < 8; ++i) {
    double v = 0;
    in >> v;
    total += v;
    if (i != 3 && i != 4) busy += v;  // idle, iowait
  }
  return {busy, total};
}

void bench_idle() {
  const int n = std::stoi(g_opt["--idle-partitions"]), windows = std::stoi(g_opt["--runs"]);
  const int window_s = std::stoi(g_opt["--window"]);
  Daemon daemon(g_opt["--tilehvd"], g_opt["--tilehv"], g_work / "idle");
  if (!daemon.start()) return;
  const auto t0 = Clock::now();
  const auto answer = daemon.call("POST", "/v1/policy/apply?name=bench.json", policy_text(n));
  const double apply_ms = ms_since(t0);
  if (!answer || answer->status != 200) {
    std::fprintf(stderr, "apply of %d failed: %s\n", n, why(answer).c_str());
    return;
  }
  const auto vmms = daemon.vmm_processes();
  const auto self = tilehv::bench::watch(daemon.pid());
  std::printf("### %d idle partitions (halt, %s): applied in %.0f ms, %zu VMMs running; %s s to settle, then %d windows of %d s\n\n", n,
              g_opt["--memory"].c_str(), apply_ms, vmms.size(), g_opt["--settle"].c_str(), windows, window_s);
  std::this_thread::sleep_for(std::chrono::seconds(std::stoi(g_opt["--settle"])));
  // CPU used by the daemon or by all the VMMs: the scheduler's nanoseconds, and clock ticks (utime + stime).
  const auto used = [&](bool of_vmms) {
    std::pair<double, double> ns_ticks{0, 0};
    const auto add = [&](const tilehv::bench::WatchedProcess& p) {
      ns_ticks.first += static_cast<double>(tilehv::bench::cpu_ns(p).value_or(0));
      ns_ticks.second += static_cast<double>(tilehv::bench::cpu_ticks(p).value_or(0));
    };
    if (!of_vmms && self) add(*self);
    if (of_vmms) std::for_each(vmms.begin(), vmms.end(), add);
    return ns_ticks;
  };
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double count = static_cast<double>(std::max<std::size_t>(1, vmms.size()));
  std::map<std::string, std::vector<double>> m;
  std::printf("| window | tilehvd (%% of a core) | %zu VMMs (%% of a core) | total | total from clock ticks (utime + stime) | "
              "per VMM (us of CPU per s) | whole host busy (%% of a core) |\n", vmms.size());
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (int w = 0; w < windows; ++w) {
    const auto d0 = used(false), v0 = used(true);
    const auto [busy0, total0] = host_jiffies();
    const auto start = Clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(window_s));
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const auto d1 = used(false), v1 = used(true);
    const auto [busy1, total1] = host_jiffies();
    const double cores = total1 > total0 ? (total1 - total0) / (hz * seconds) : 1;
    const double daemon_pct = 100.0 * (d1.first - d0.first) / 1e9 / seconds;
    const double vmm_pct = 100.0 * (v1.first - v0.first) / 1e9 / seconds;
    const double ticks_pct = 100.0 * ((d1.second - d0.second) + (v1.second - v0.second)) / hz / seconds;
    const double host_pct = 100.0 * cores * (busy1 - busy0) / std::max(1.0, total1 - total0);
    std::printf("| %d | %.3f | %.3f | %.3f | %.2f | %.2f | %.1f |\n", w + 1, daemon_pct, vmm_pct, daemon_pct + vmm_pct, ticks_pct,
                vmm_pct / 100.0 * 1e6 / count, host_pct);
    std::fflush(stdout);
    m["d"].push_back(daemon_pct), m["v"].push_back(vmm_pct), m["t"].push_back(daemon_pct + vmm_pct);
    m["k"].push_back(ticks_pct), m["h"].push_back(host_pct);
  }
  std::printf("| median | %.3f | %.3f | %.3f | %.2f | %.2f | %.1f |\n\n", median(m["d"]), median(m["v"]), median(m["t"]), median(m["k"]),
              median(m["v"]) / 100.0 * 1e6 / count, median(m["h"]));
  int running = 0;
  for (const auto& p : daemon.partitions()) running += p.value("state", "") == "running" ? 1 : 0;
  std::printf("still running after the windows: %d of %d\n", running, n);
  const double t = median(m["t"]);
  std::printf("target: %d idle partitions cost under 3%% of one core in total: %.3f%% (from clock ticks: %.2f%%) %s\n\n", n, t,
              median(m["k"]), running == n && t < 3 && median(m["k"]) < 3 ? "met" : "NOT met");
  if (!daemon.shut_down()) std::fprintf(stderr, "tear-down: some VMMs had to be killed\n");
}

void bench_api() {
  const int runs = std::stoi(g_opt["--runs"]), n = std::stoi(g_opt["--api-partitions"]);
  const auto duration = std::chrono::milliseconds(static_cast<int>(std::stod(g_opt["--api-seconds"]) * 1000));
  Daemon daemon(g_opt["--tilehvd"], g_opt["--tilehv"], g_work / "api");
  if (!daemon.start()) return;
  if (const auto a = daemon.call("POST", "/v1/policy/apply?name=bench.json", policy_text(n)); !a || a->status != 200) {
    std::fprintf(stderr, "apply of %d failed: %s\n", n, why(a).c_str());
    return;
  }
  std::printf("### control API with %d partitions: %d runs of %s s per case, floor: the same round trips with the same bytes "
              "over a bare unix socket\n\n", n, runs, g_opt["--api-seconds"].c_str());
  std::printf("| request | clients | bytes (request / response) | requests/s | p50 (us) | p99 (us) | floor requests/s | floor p50 (us) | "
              "floor p99 (us) | requests/s / floor |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const std::string target : {"/v1/partitions", "/v1/health"}) {
    const auto size = tilehv::bench::exchange_size(daemon.socket(), target);
    for (const int clients : {1, 4}) {
      std::map<std::string, std::vector<double>> m;
      for (int run = 0; run < runs; ++run) {
        const auto api = tilehv::bench::api_load(daemon.socket(), target, clients, duration);
        const tilehv::bench::EchoServer echo((g_work / "echo.sock").string(), size);
        const auto floor = echo.load(clients, api.round_trips);
        if (!api.ok || !floor.ok) {
          std::fprintf(stderr, "%s with %d clients failed: %s\n", target.c_str(), clients, (api.error + " " + floor.error).c_str());
        }
        m["rps"].push_back(api.per_second), m["p50"].push_back(api.p50_us), m["p99"].push_back(api.p99_us);
        m["frps"].push_back(floor.per_second), m["fp50"].push_back(floor.p50_us), m["fp99"].push_back(floor.p99_us);
        m["ratio"].push_back(floor.per_second > 0 ? api.per_second / floor.per_second : 0);
      }
      std::printf("| GET %s | %d | %zu / %zu | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.3f |\n", target.c_str(), clients,
                  size.request, size.response, median(m["rps"]), median(m["p50"]), median(m["p99"]), median(m["frps"]),
                  median(m["fp50"]), median(m["fp99"]), median(m["ratio"]));
      std::fflush(stdout);
    }
  }
  std::printf("\n");
  if (!daemon.shut_down()) std::fprintf(stderr, "tear-down: some VMMs had to be killed\n");
}

}  // namespace

int main(int argc, char** argv) {
  g_opt = {{"--apply-runs", "3"}, {"--runs", "5"},       {"--partitions", "100"},   {"--idle-partitions", "200"},
           {"--memory", "16M"},   {"--settle", "5"},     {"--window", "20"},        {"--api-seconds", "3"},
           {"--api-partitions", "10"}, {"--only", "apply,idle,api"}};
  for (int i = 1; i + 1 < argc; i += 2) g_opt[argv[i]] = argv[i + 1];
  for (const char* required : {"--tilehvd", "--tilehv", "--guest-dir"}) {
    if (g_opt.count(required) == 0) {
      std::fprintf(stderr,
                   "usage: tilehv-bench-tile --tilehvd BIN --tilehv BIN --guest-dir DIR [--only apply,idle,api] [--apply-runs N] "
                   "[--runs N] [--partitions N] [--idle-partitions N] [--memory SIZE] [--settle S] [--window S] "
                   "[--api-seconds S] [--api-partitions N]\n");
      return 2;
    }
  }
  for (const char* path : {"--tilehvd", "--tilehv", "--guest-dir"}) g_opt[path] = std::filesystem::absolute(g_opt[path]).string();
  // VMMs whose parent ends become this process's children, so that none is left unreaped.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  g_work = std::filesystem::temp_directory_path() / ("tilehv-bench-tile-" + std::to_string(::getpid()));
  std::filesystem::create_directories(g_work);
  std::printf("tilehvd %s, %ld CPUs\n\n", ::geteuid() == 0 ? "jailed (root)" : "unjailed (--no-jail, not root)",
              ::sysconf(_SC_NPROCESSORS_ONLN));
  const std::string only = "," + g_opt["--only"] + ",";
  if (only.find(",apply,") != std::string::npos) bench_apply();
  if (only.find(",idle,") != std::string::npos) bench_idle();
  if (only.find(",api,") != std::string::npos) bench_api();
  tilehv::bench::reap_zombie_children();
  std::error_code ignored;
  std::filesystem::remove_all(g_work, ignored);
  return 0;
}
