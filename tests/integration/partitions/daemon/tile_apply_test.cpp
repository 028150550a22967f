// End-to-end tests of tilehvd: policies applied, planned, updated and destroyed with real (jailed
// where possible) partitions; a failing apply rolled back; restart policies after kill -9; a daemon
// killed with SIGKILL re-adopting its partitions; bad API requests answered while it keeps serving.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "daemon/vmm_process.hpp"
#include "support/kvm_available.hpp"
#include "tile_fixture.hpp"

namespace tilehv {
namespace {

using testing::PartitionSpec;
using testing::named;
using testing::policy_text;

class TileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TILEHV_REQUIRE_KVM();
    // VMMs orphaned by a killed daemon come to this process, which reaps them: a partition's uid
    // may only have so many threads, and unreaped ones would count against the next test's.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    daemon_.start();
  }
  void TearDown() override { testing::stop_tile_and_reap(daemon_); }
  int pid_of(const std::string& name) { return daemon_.partition(name).value("pid", 0); }

  tilehv::testing::TempDir dir_;
  testing::TileDaemon daemon_{dir_.path()};
};

TEST_F(TileTest, AppliesPlansUpdatesAndDestroys) {
  const std::string first = policy_text({named("alpha"), named("beta")});
  auto applied = daemon_.apply(first);
  ASSERT_EQ(applied.status, 200) << applied.body << daemon_.log_text();
  const int alpha = pid_of("alpha"), beta = pid_of("beta");
  EXPECT_TRUE(testing::process_alive(alpha));
  EXPECT_TRUE(testing::process_alive(beta));
  EXPECT_EQ(daemon_.partition("alpha").value("state", ""), "running");

  // Same policy again: nothing to do.
  auto plan = daemon_.json("POST", "/v1/policy/plan?name=test.json", first);
  for (const auto& step : plan["steps"]) EXPECT_EQ(step.value("action", ""), "unchanged") << plan.dump();

  // alpha: more memory (restart); beta: another CPU weight (in place); gamma: new; nothing destroyed yet.
  PartitionSpec alpha2 = named("alpha");
  alpha2.memory = "32M";
  PartitionSpec beta2 = named("beta");
  beta2.cpu_weight = 300;
  const std::string second = policy_text({alpha2, beta2, named("gamma")});
  plan = daemon_.json("POST", "/v1/policy/plan?name=test.json", second);
  std::map<std::string, std::string> actions;
  for (const auto& step : plan["steps"]) actions[step.value("partition", "")] = step.value("action", "");
  EXPECT_EQ(actions["alpha"], "restart") << plan.dump();
  EXPECT_EQ(actions["beta"], "update") << plan.dump();
  EXPECT_EQ(actions["gamma"], "create") << plan.dump();
  applied = daemon_.apply(second);
  ASSERT_EQ(applied.status, 200) << applied.body;
  EXPECT_NE(pid_of("alpha"), alpha) << "restarted";
  EXPECT_FALSE(testing::process_alive(alpha));
  EXPECT_EQ(pid_of("beta"), beta) << "updated in place";
  EXPECT_TRUE(testing::process_alive(pid_of("gamma")));
  EXPECT_EQ(daemon_.partition("alpha").value("memory_bytes", 0ULL), 32ULL << 20);

  // gamma goes.
  const int gamma = pid_of("gamma");
  applied = daemon_.apply(policy_text({alpha2, beta2}));
  ASSERT_EQ(applied.status, 200) << applied.body;
  EXPECT_TRUE(daemon_.partition("gamma").is_null());
  EXPECT_FALSE(testing::process_alive(gamma));
}

TEST_F(TileTest, AFailingApplyRollsBackCompletely) {
  ASSERT_EQ(daemon_.apply(policy_text({named("alpha"), named("beta")})).status, 200);
  const int alpha = pid_of("alpha"), beta = pid_of("beta");
  // An image that matches its hash but is no kernel: its VMM refuses it, so the apply fails after
  // another partition was already created and alpha restarted.
  const std::string bogus = (dir_.path() / "not-a-kernel.elf").string();
  std::ofstream(bogus) << "this is not an ELF file\n";
  PartitionSpec alpha2 = named("alpha");
  alpha2.memory = "32M";
  PartitionSpec broken = named("zeta");
  broken.image = bogus;
  const auto r = daemon_.apply(policy_text({alpha2, named("beta"), named("delta"), broken}));
  EXPECT_EQ(r.status, 409) << r.body;
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  EXPECT_EQ(body.value("code", ""), "apply_failed");
  EXPECT_NE(body.value("message", "").find("zeta"), std::string::npos) << r.body;
  // The tile is as before: alpha runs with its old memory, beta untouched, nothing new remains.
  EXPECT_TRUE(daemon_.partition("delta").is_null());
  EXPECT_TRUE(daemon_.partition("zeta").is_null());
  EXPECT_EQ(pid_of("beta"), beta);
  EXPECT_EQ(daemon_.partition("alpha").value("memory_bytes", 0ULL), 16ULL << 20);
  EXPECT_EQ(daemon_.partition("alpha").value("state", ""), "running");
  (void)alpha;
  const auto policy = daemon_.json("GET", "/v1/policy");
  EXPECT_EQ(policy.value("text", "").find("zeta"), std::string::npos) << "the applied policy is still the old one";
}

TEST_F(TileTest, BrokenPoliciesAreRejectedWithTheirErrorsAndChangeNothing) {
  { const auto r = daemon_.apply(policy_text({named("alpha")})); ASSERT_EQ(r.status, 200) << r.body; }
  const int alpha = pid_of("alpha");
  const auto r = daemon_.call("POST", "/v1/policy/apply?name=bad.json", R"({"apiVersion": "tilehv.io/v1", "tile": 5})");
  EXPECT_EQ(r.status, 422) << r.body;
  const auto body = nlohmann::json::parse(r.body, nullptr, false);
  EXPECT_EQ(body.value("code", ""), "invalid_policy");
  ASSERT_TRUE(body.contains("errors") && !body["errors"].empty()) << r.body;
  EXPECT_EQ(body["errors"][0].value("file", ""), "bad.json");
  EXPECT_EQ(pid_of("alpha"), alpha);
  EXPECT_TRUE(testing::process_alive(alpha));
}

TEST_F(TileTest, AShadowWhoseCandidateEndsFailsAloneAndThePolicyStillApplies) {
  { const auto r = daemon_.apply(policy_text({named("alpha")})); ASSERT_EQ(r.status, 200) << r.body; }
  const int alpha = pid_of("alpha");
  auto policy = nlohmann::json::parse(policy_text({named("alpha"), named("beta")}));
  const std::string candidate = testing::guest_kernel("hello");  // prints and exits: not a kernel to promote
  policy["shadows"] = {{{"name", "alpha-next"}, {"live", "alpha"}, {"action", "auto-promote"},
                        {"candidate", {{"image", candidate}, {"sha256", testing::sha256_of(candidate)}}}}};
  const auto r = daemon_.apply(policy.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  nlohmann::json shadow;
  for (int i = 0; i < 200; ++i) {
    shadow = daemon_.json("GET", "/v1/shadows/alpha-next");
    if (shadow.value("state", "") == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(shadow.value("state", ""), "failed") << shadow.dump(1);
  EXPECT_EQ(pid_of("alpha"), alpha) << "the live partition never noticed";
  EXPECT_EQ(daemon_.partition("beta").value("state", ""), "running");
  EXPECT_EQ(daemon_.call("POST", "/v1/shadows/alpha-next/promote").status, 409) << "a failed candidate is never promoted";
}

TEST_F(TileTest, KilledPartitionRestartsPerPolicyWhileNeighboursRun) {
  PartitionSpec worker = named("worker");
  worker.restart = "on-failure";
  ASSERT_EQ(daemon_.apply(policy_text({worker, named("neighbour")})).status, 200);
  const int first = pid_of("worker"), neighbour = pid_of("neighbour");
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(daemon_.wait_for("worker", [&](const nlohmann::json& p) {
    return p.value("state", "") == "running" && p.value("pid", 0) != first && p.value("pid", 0) != 0;
  })) << daemon_.json("GET", "/v1/partitions").dump();
  const auto worker_view = daemon_.partition("worker");
  EXPECT_EQ(worker_view["last_end"].value("kind", ""), "vmm-crash") << worker_view.dump();
  EXPECT_EQ(worker_view.value("restarts", 0), 1);
  EXPECT_EQ(pid_of("neighbour"), neighbour);
  // A partition with restart policy "never" stays down.
  ASSERT_EQ(::kill(neighbour, SIGKILL), 0);
  ASSERT_TRUE(daemon_.wait_for("neighbour", [](const nlohmann::json& p) { return p.value("state", "") == "failed"; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(daemon_.partition("neighbour").value("pid", 1), 0);
}

TEST_F(TileTest, DaemonKilledWithSigkillReadoptsRunningPartitions) {
  PartitionSpec worker = named("worker");
  worker.restart = "on-failure";
  ASSERT_EQ(daemon_.apply(policy_text({worker, named("other")})).status, 200);
  const int worker_pid = pid_of("worker"), other_pid = pid_of("other");
  daemon_.kill(SIGKILL);
  EXPECT_TRUE(testing::process_alive(worker_pid)) << "partitions outlive their daemon";
  EXPECT_TRUE(testing::process_alive(other_pid));
  daemon_.start();
  EXPECT_EQ(pid_of("worker"), worker_pid);
  EXPECT_EQ(pid_of("other"), other_pid);
  EXPECT_EQ(daemon_.partition("worker").value("state", ""), "running");
  // Re-adopted partitions are supervised again: the restart policy still applies.
  ASSERT_EQ(::kill(worker_pid, SIGKILL), 0);
  EXPECT_TRUE(daemon_.wait_for("worker", [&](const nlohmann::json& p) {
    return p.value("state", "") == "running" && p.value("pid", 0) != worker_pid && p.value("pid", 0) != 0;
  }));
  const auto events = daemon_.call("GET", "/v1/events");
  EXPECT_NE(events.body.find("partition.adopted"), std::string::npos) << events.body;
}

// A daemon's I/O plane dies with it, but the rings of its ports live in memory the VMMs share: the
// restarted daemon gets every port back (relink) and the traffic continues where it stood. The ping
// partition counts every round and every mismatch, so a frame lost or doubled across the restart shows.
TEST_F(TileTest, TrafficBetweenPartitionsContinuesAcrossADaemonKilledWithSigkill) {
  constexpr int kRounds = 4000;
  PartitionSpec pong = named("pong");
  pong.kernel = "udp-pingpong";
  pong.cmdline = fmt::format("role=pong ip=10.0.0.1 peer=10.0.0.2 count={} wait_ms=60000", kRounds);
  pong.devices = {{"network", {{"allowPeers", {"ping"}}}}};
  PartitionSpec ping = named("ping");
  ping.kernel = "udp-pingpong";
  ping.cmdline = fmt::format("role=ping ip=10.0.0.2 peer=10.0.0.1 count={} size=64 wait_ms=60000", kRounds);
  ping.devices = {{"network", {{"allowPeers", {"pong"}}}}};
  { const auto r = daemon_.apply(policy_text({pong, ping})); ASSERT_EQ(r.status, 200) << r.body; }
  const int ping_pid = pid_of("ping"), pong_pid = pid_of("pong");
  const auto frames = [&](const std::string& name) -> std::uint64_t {
    const auto d = daemon_.json("GET", "/v1/partitions/" + name);
    return d.contains("devices") && d["devices"].contains("network") ? d["devices"]["network"].value("tx_frames", 0ULL) : 0;
  };
  ASSERT_TRUE(daemon_.wait_for("ping", [&](const nlohmann::json&) { return frames("ping") >= 200; }))
      << daemon_.json("GET", "/v1/partitions/ping").dump();
  // A relink without a new link, or with something that is not one, changes nothing.
  const auto control = daemon_.state() / "partitions" / "ping" / "control.sock";
  auto bare = daemon::control_request(control, "relink", std::chrono::seconds(5));
  ASSERT_FALSE(bare);
  EXPECT_NE(bare.error().find("relink needs the new plane link"), std::string::npos) << bare.error();
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  auto piped = daemon::control_request(control, "relink", std::chrono::seconds(5), pipe_fds[1]);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
  ASSERT_TRUE(piped) << piped.error();
  EXPECT_TRUE((*piped)["reattached"].empty()) << piped->dump();
  EXPECT_EQ((*piped)["refused"].size(), 1U) << piped->dump();
  const auto before = frames("ping");
  EXPECT_TRUE(daemon_.wait_for("ping", [&](const nlohmann::json&) { return frames("ping") > before + 50; }))
      << "the partition's traffic stopped after a bogus relink";
  daemon_.kill(SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(testing::process_alive(ping_pid)) << "the ping partition ended before the daemon was killed: raise kRounds";
  daemon_.start();
  ASSERT_EQ(pid_of("ping"), ping_pid);
  ASSERT_EQ(pid_of("pong"), pong_pid);
  // The new daemon's plane carries the traffic: its own counters move.
  EXPECT_TRUE(daemon_.wait_for("ping", [&](const nlohmann::json&) { return frames("ping") >= 100; }))
      << daemon_.json("GET", "/v1/partitions/ping").dump();
  const auto events = daemon_.call("GET", "/v1/events");
  EXPECT_NE(events.body.find("partition.relinked"), std::string::npos) << events.body;
  EXPECT_EQ(events.body.find("partition.relink-failed"), std::string::npos) << events.body;
  // Every round completes, none mismatched: nothing was lost or doubled while no plane ran.
  ASSERT_TRUE(daemon_.wait_for("ping", [](const nlohmann::json& p) { return p.value("state", "") != "running"; },
                               std::chrono::seconds(120)));
  const auto ended = daemon_.partition("ping");
  EXPECT_EQ(ended["last_end"].value("kind", ""), "guest-exit") << ended.dump();
  EXPECT_EQ(ended["last_end"].value("guest_value", -1), 0) << ended.dump();
  const auto console = daemon_.call("GET", "/v1/partitions/ping/console");
  EXPECT_NE(console.body.find(fmt::format("udp-pingpong: {} rounds, 64 B, 0 mismatches", kRounds)), std::string::npos)
      << console.body;
}

TEST_F(TileTest, PauseResumeStopAndDescribe) {
  { const auto r = daemon_.apply(policy_text({named("alpha")})); ASSERT_EQ(r.status, 200) << r.body; }
  // Its boot message first: a guest paused mid-line would leave half of it in the console.
  for (int i = 0; i < 200 && daemon_.call("GET", "/v1/partitions/alpha/console").body.find("halt: halting 1 cpus") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  auto r = daemon_.json("POST", "/v1/partitions/alpha/pause");
  EXPECT_EQ(r.value("state", ""), "paused") << r.dump();
  auto d = daemon_.json("GET", "/v1/partitions/alpha");
  EXPECT_EQ(d["vmm"].value("state", ""), "paused") << d.dump();
  r = daemon_.json("POST", "/v1/partitions/alpha/resume");
  EXPECT_EQ(r.value("state", ""), "running");
  const int pid = pid_of("alpha");
  r = daemon_.json("POST", "/v1/partitions/alpha/stop");
  EXPECT_EQ(r.value("state", ""), "stopped");
  EXPECT_FALSE(testing::process_alive(pid));
  EXPECT_EQ(daemon_.partition("alpha")["last_end"].value("kind", ""), "stopped");
  EXPECT_EQ(daemon_.call("POST", "/v1/partitions/nobody/pause").status, 404);
  const auto console = daemon_.call("GET", "/v1/partitions/alpha/console");
  EXPECT_NE(console.body.find("halt: halting 1 cpus"), std::string::npos) << console.body;
}

TEST_F(TileTest, BadRequestsAreAnsweredWhileTheDaemonKeepsServing) {
  { const auto r = daemon_.apply(policy_text({named("alpha")})); ASSERT_EQ(r.status, 200) << r.body; }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, daemon_.socket().c_str(), sizeof address.sun_path - 1);
  // An oversized body is refused from its Content-Length, before the daemon reads it.
  {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    const std::string head = "POST /v1/policy/validate HTTP/1.1\r\nHost: tile\r\nContent-Length: 2097152\r\n\r\n";
    ASSERT_EQ(::write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
    char answer[512] = {};
    ASSERT_GT(::read(fd, answer, sizeof answer - 1), 0);
    EXPECT_EQ(std::string(answer).rfind("HTTP/1.1 413", 0), 0U) << answer;
    ::close(fd);
  }
  // Malformed JSON policy.
  const auto bad = daemon_.call("POST", "/v1/policy/validate?name=x.json", "{\"apiVersion\": ");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(daemon_.call("GET", "/v1/nothing").status, 404);
  EXPECT_EQ(daemon_.call("DELETE", "/v1/partitions").status, 405);
  // A slow client holds only its own connection.
  const int slow = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_EQ(::connect(slow, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::write(slow, "GET /v1/he", 10), 10);
  EXPECT_EQ(daemon_.call("GET", "/v1/partitions").status, 200);
  ::close(slow);
  EXPECT_TRUE(testing::process_alive(pid_of("alpha")));
}

TEST_F(TileTest, JailedPartitionsAreCheckedFromOutside) {
  if (!testing::jailed_tile()) GTEST_SKIP() << "the jail needs root";
  PartitionSpec alpha_spec = named("alpha");
  alpha_spec.devices = {{"console", {{"limit", "256K"}}}};
  ASSERT_EQ(daemon_.apply(policy_text({alpha_spec, named("beta")})).status, 200);
  const int alpha = pid_of("alpha"), beta = pid_of("beta");
  std::map<std::string, std::string> status;
  std::ifstream in(fmt::format("/proc/{}/status", alpha));
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon != std::string::npos) status[line.substr(0, colon)] = std::regex_replace(line.substr(colon + 1), std::regex("^\\s+"), "");
  }
  EXPECT_EQ(status["Seccomp"], "2");
  EXPECT_EQ(status["NoNewPrivs"], "1");
  EXPECT_EQ(status["CapEff"], "0000000000000000");
  EXPECT_EQ(status["CapPrm"], "0000000000000000");
  EXPECT_EQ(status["CapBnd"], "0000000000000000");
  const auto uid_of = [](int pid) {
    std::ifstream s(fmt::format("/proc/{}/status", pid));
    for (std::string line; std::getline(s, line);) {
      if (line.rfind("Uid:", 0) == 0) return std::stoi(line.substr(4));
    }
    return -1;
  };
  EXPECT_NE(uid_of(alpha), 0);
  EXPECT_NE(uid_of(alpha), uid_of(beta)) << "each partition its own uid";
  // The policy's console limit is the largest file the VMM may write.
  const auto max_file_size = [](int pid) {
    std::ifstream s(fmt::format("/proc/{}/limits", pid));
    for (std::string line; std::getline(s, line);) {
      if (line.rfind("Max file size", 0) == 0) return std::regex_replace(line.substr(13), std::regex("^\\s+(\\S+).*$"), "$1");
    }
    return std::string();
  };
  EXPECT_EQ(max_file_size(alpha), "262144");
  EXPECT_EQ(max_file_size(beta), "1048576");
  for (const char* ns : {"mnt", "pid", "ipc", "uts", "net"}) {
    EXPECT_NE(std::filesystem::read_symlink(fmt::format("/proc/{}/ns/{}", alpha, ns)),
              std::filesystem::read_symlink(fmt::format("/proc/self/ns/{}", ns)))
        << ns;
  }
}

}  // namespace
}  // namespace tilehv
