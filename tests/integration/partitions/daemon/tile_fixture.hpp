// A real tilehvd for end-to-end tests: started as its own process on a temporary state directory
// and socket, driven through the control API with the same HTTP client tilectl uses, killed with
// SIGKILL when a test wants to see it crash.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "api/http_client.hpp"
#include "support/guest_kernels.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace tilehv::testing {

// The jail needs root; elsewhere the tile runs unjailed, as its policies then allow.
inline bool jailed_tile() { return ::geteuid() == 0; }

inline std::string sha256_of(const std::string& path) {
  const auto r = run_process({"/usr/bin/sha256sum", path});
  return r.out.substr(0, 64);
}

struct PartitionSpec {
  std::string name;
  std::string kernel = "halt";  // idles forever
  std::string memory = "16M";
  std::string restart = "never";
  std::string image;            // overrides kernel: a path
  std::string cmdline;
  std::uint32_t cpu_weight = 100;
  nlohmann::json devices = nlohmann::json::object();
};

inline PartitionSpec named(std::string name) {
  PartitionSpec spec;
  spec.name = std::move(name);
  return spec;
}

// A policy as JSON text, with real images and their hashes.
inline std::string policy_text(const std::vector<PartitionSpec>& partitions, const nlohmann::json& channels = nlohmann::json::array(),
                               const nlohmann::json& sensors = nlohmann::json::array()) {
  nlohmann::json p{{"apiVersion", "tilehv.io/v1"},
                   {"tile", {{"name", "test"}, {"cpus", "0-1"}, {"memory", "8G"}, {"sensors", sensors}}},
                   {"partitions", nlohmann::json::array()},
                   {"channels", channels}};
  for (const PartitionSpec& s : partitions) {
    const std::string image = s.image.empty() ? guest_kernel(s.kernel) : s.image;
    nlohmann::json part{{"name", s.name},
                        {"image", image},
                        {"sha256", sha256_of(image)},
                        {"memory", s.memory},
                        {"cpu", {{"mode", "shared"}, {"weight", s.cpu_weight}}},
                        {"restart", {{"policy", s.restart}, {"backoffInitialMs", 100}, {"backoffMaxMs", 1000}}}};
    if (!s.devices.empty()) part["devices"] = s.devices;
    if (!s.cmdline.empty()) part["cmdline"] = s.cmdline;
    p["partitions"].push_back(part);
  }
  if (!jailed_tile()) {
    p["development"] = {{"unjailed", "I understand that unjailed partitions run with the full rights of tilehvd on this host."}};
  }
  return p.dump(2);
}

class TileDaemon {
 public:
  explicit TileDaemon(const std::filesystem::path& dir) : dir_(dir) {}
  ~TileDaemon() { kill(SIGKILL); }
  TileDaemon(const TileDaemon&) = delete;
  TileDaemon& operator=(const TileDaemon&) = delete;

  // In a folder that does not exist yet: the daemon makes it, as it makes /run/tilehv.
  std::string socket() const { return (dir_ / "run" / "api.sock").string(); }
  std::filesystem::path state() const { return dir_ / "state"; }
  std::string log() const { return (dir_ / "tilehvd.log").string(); }
  // Tests run in parallel, each with its own daemon: the jail's RLIMIT_NPROC counts every process of a
  // uid, so daemons that shared a uid range would starve each other's partitions of threads.
  static uid_t uid_base() { return static_cast<uid_t>(300000 + (::getpid() % 100000) * 64); }

  // Starts tilehvd and waits until its API answers.
  void start() {
    std::vector<std::string> args = {TILEHVD_BINARY, "--socket", socket(), "--state-dir", state().string(), "--vmm",
                                     TILEHV_BINARY, "--uid-base", std::to_string(uid_base())};
    if (!jailed_tile()) args.push_back("--no-jail");
    const std::string log_path = log();
    pid_ = ::fork();
    if (pid_ == 0) {
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(fd, 2);
      ::dup2(fd, 1);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      api::HttpClient client(socket());
      if (auto r = client.request("GET", "/v1/health", {}, "application/json", std::chrono::milliseconds(500)); r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    FAIL() << "tilehvd did not answer; its log:\n" << log_text();
  }

  void kill(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }

  std::string log_text() const {
    std::ifstream in(log());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  api::HttpResponse call(const std::string& method, const std::string& target, const std::string& body = {}) {
    api::HttpClient client(socket());
    auto r = client.request(method, target, body, "application/json", std::chrono::seconds(60));
    EXPECT_TRUE(r) << (r ? "" : r.error());
    return r ? *r : api::HttpResponse{0, "", "", {}};
  }
  nlohmann::json json(const std::string& method, const std::string& target, const std::string& body = {}) {
    const auto r = call(method, target, body);
    return nlohmann::json::parse(r.body, nullptr, false);
  }
  api::HttpResponse apply(const std::string& policy) { return call("POST", "/v1/policy/apply?name=test.json", policy); }

  nlohmann::json partition(const std::string& name) {
    for (const auto& p : json("GET", "/v1/partitions")) {
      if (p.value("name", "") == name) return p;
    }
    return nullptr;
  }
  // Waits until `pred(partition view)` holds.
  template <typename Pred>
  bool wait_for(const std::string& name, Pred pred, std::chrono::seconds limit = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (const auto p = partition(name); !p.is_null() && pred(p)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = 0;
};

inline bool process_alive(int pid) { return pid > 0 && ::kill(pid, 0) == 0; }

// After a test: partitions outlive their daemon by design, so the daemon and each of its partitions
// are killed, and every orphan the test left (its VMMs, whoever started them) is reaped by this
// process (a PR_SET_CHILD_SUBREAPER) before the next test: a partition's uid may only have so many
// threads, and unreaped ones would count against the next test's.
inline void stop_tile_and_reap(TileDaemon& daemon) {
  std::vector<int> pids;
  if (auto list = daemon.json("GET", "/v1/partitions"); list.is_array()) {
    for (const auto& p : list) pids.push_back(p.value("pid", 0));
  }
  daemon.kill(SIGKILL);
  for (int pid : pids) {
    if (pid > 0) ::kill(pid, SIGKILL);
  }
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < end) {
    const pid_t reaped = ::waitpid(-1, nullptr, WNOHANG);
    if (reaped < 0) break;  // no children left
    if (reaped == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace tilehv::testing
