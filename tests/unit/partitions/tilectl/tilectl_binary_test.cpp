// The tilectl executable: argument parsing and its exit codes, the socket's environment variable,
// refusing to apply without a terminal, a closed output pipe and an interrupted stream.
#include <signal.h>

#include <gtest/gtest.h>

#include "api/response_stream.hpp"
#include "support/process.hpp"
#include "tilectl/exit_codes.hpp"
#include "tilectl_test_support.hpp"

namespace tilehv::tilectl {
namespace {

using tilehv::testing::ProcessResult;
using tilehv::testing::run_process;
using testing::CannedDaemon;

ProcessResult tilectl(std::vector<std::string> args) {
  args.insert(args.begin(), TILECTL_BINARY);
  return run_process(args);
}

// Through a shell, for redirections and pipes.
ProcessResult shell(const std::string& command) { return run_process({"/bin/bash", "-c", command}); }

TEST(TilectlBinary, UsageErrorsExitWith64) {
  EXPECT_EQ(tilectl({}).status, kExitUsage);
  EXPECT_EQ(tilectl({"frobnicate"}).status, kExitUsage);
  EXPECT_EQ(tilectl({"stop"}).status, kExitUsage);
  EXPECT_EQ(tilectl({"stop", "web", "--all"}).status, kExitUsage);
  EXPECT_EQ(tilectl({"get", "volumes"}).status, kExitUsage);
  EXPECT_EQ(tilectl({"-o", "yaml", "get", "partitions"}).status, kExitUsage);
  EXPECT_EQ(tilectl({"events", "--since", "-3"}).status, kExitUsage);
  const auto help = tilectl({"--help"});
  EXPECT_EQ(help.status, kExitOk);
  EXPECT_NE(help.out.find("apply"), std::string::npos);
}

TEST(TilectlBinary, NoDaemonExitsWith2AndSaysWhere) {
  tilehv::testing::TempDir dir;
  const std::string socket = (dir.path() / "absent.sock").string();
  const auto result = tilectl({"get", "partitions", "--socket", socket});
  EXPECT_TRUE(result.exited);
  EXPECT_EQ(result.status, kExitUnreachable) << result.describe();
  EXPECT_EQ(result.err, "tilectl: error: cannot connect to " + socket + ": No such file or directory (is tilehvd running?)\n");
}

TEST(TilectlBinary, SocketFromTheEnvironmentAndOutputOptionAfterTheCommand) {
  CannedDaemon daemon;
  daemon.answer("GET", "/v1/partitions", 200, nlohmann::json::array({testing::web_view()}));
  daemon.start();
  const auto result = run_process({"/usr/bin/env", "TILEHV_SOCKET=" + daemon.socket(), TILECTL_BINARY, "get", "partitions", "-o", "json"});
  EXPECT_EQ(result.status, kExitOk) << result.describe();
  EXPECT_EQ(nlohmann::json::parse(result.out), nlohmann::json::array({testing::web_view()}));
}

TEST(TilectlBinary, ServerErrorsExitWith1) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/partitions/{name}/restart", 404,
                {{"code", "not_found"}, {"message", "no partition named 'ghost' in the applied policy"}});
  daemon.start();
  const auto result = tilectl({"--socket", daemon.socket(), "restart", "ghost"});
  EXPECT_EQ(result.status, kExitFailed) << result.describe();
  EXPECT_EQ(result.err, "tilectl: error: server answered 404 (not_found): no partition named 'ghost' in the applied policy\n");
}

TEST(TilectlBinary, ApplyRefusesWithoutATerminal) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/policy/plan", 200, {{"steps", nlohmann::json::array()}, {"tile_changed", true}});
  daemon.answer("POST", "/v1/policy/apply", 200, {{"applied", true}});
  daemon.start();
  const std::string file = daemon.write_file("tile.json", "{}");
  const auto refused = shell(std::string("echo y | ") + TILECTL_BINARY + " apply " + file + " --socket " + daemon.socket());
  EXPECT_EQ(refused.status, kExitUsage) << refused.describe();
  EXPECT_NE(refused.err.find("pass --yes"), std::string::npos) << refused.err;
  EXPECT_EQ(daemon.count("/v1/policy/apply"), 0u);

  const auto forced = shell(std::string(TILECTL_BINARY) + " apply --yes " + file + " --socket " + daemon.socket() + " </dev/null");
  EXPECT_EQ(forced.status, kExitOk) << forced.describe();
  EXPECT_EQ(daemon.count("/v1/policy/apply"), 1u);
}

TEST(TilectlBinary, AReaderThatLeavesEndsTheStreamQuietly) {
  CannedDaemon daemon;
  // Far more than a pipe holds, so tilectl is still writing when head has gone.
  daemon.stream_route("GET", "/v1/events", [](const api::HttpRequest&, api::ResponseStream& stream) {
    for (int seq = 1; seq <= 20000; ++seq) {
      const nlohmann::json e{{"seq", seq}, {"time", "t"}, {"type", "partition.started"}, {"message", "a started"}};
      if (!stream.write(e.dump() + "\n")) return;
    }
  });
  daemon.start();
  const auto result = shell(std::string(TILECTL_BINARY) + " events --socket " + daemon.socket() +
                            " | head -n 2; echo \"tilectl ${PIPESTATUS[0]}\"");
  EXPECT_EQ(result.out, "1 t partition.started - a started\n2 t partition.started - a started\ntilectl 0\n") << result.describe();
  EXPECT_EQ(result.err, "");
}

TEST(TilectlBinary, InterruptingAFollowedStreamEndsIt) {
  CannedDaemon daemon;
  daemon.stream_route("GET", "/v1/events", [](const api::HttpRequest&, api::ResponseStream& stream) {
    stream.write(nlohmann::json{{"seq", 1}, {"time", "t"}, {"type", "x"}, {"message", "m"}}.dump() + "\n");
    while (stream.wait(std::chrono::milliseconds(50))) {
    }
  });
  daemon.start();
  tilehv::testing::ProcessOptions options;
  options.on_first_output = [](int pid) { ::kill(pid, SIGINT); };
  options.limit = std::chrono::seconds(20);
  const auto result = run_process({TILECTL_BINARY, "events", "-f", "--socket", daemon.socket()}, options);
  EXPECT_FALSE(result.killed_at_limit);
  EXPECT_FALSE(result.exited);
  EXPECT_EQ(result.signal, SIGINT) << result.describe();
  EXPECT_EQ(result.out, "1 t x - m\n");
  EXPECT_EQ(result.err, "");
}

}  // namespace
}  // namespace tilehv::tilectl
