// Partition commands against a real HTTP server with canned answers.
#include <gtest/gtest.h>

#include "tilectl/commands.hpp"
#include "tilectl_test_support.hpp"

namespace tilehv::tilectl {
namespace {

using testing::batch_view;
using testing::CannedDaemon;
using testing::run;
using testing::web_view;

TEST(GetPartitionsCommand, PrintsTheTable) {
  CannedDaemon daemon;
  daemon.answer("GET", "/v1/partitions", 200, nlohmann::json::array({web_view(), batch_view()}));
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return get_partitions_command(s); });
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_EQ(result.out,
            "NAME   STATE    PID   VCPUS  MEMORY   RESTARTS  UPTIME\n"
            "web    running  4242  2      256 MiB  1         1h02m\n"
            "batch  stopped  -     1      96 MiB   0         -\n");
  EXPECT_EQ(result.err, "");
}

TEST(GetPartitionsCommand, JsonOutputIsTheServersJsonPretty) {
  CannedDaemon daemon;
  const auto list = nlohmann::json::array({web_view(), batch_view()});
  daemon.answer("GET", "/v1/partitions", 200, list);
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kJson, [](Session& s) { return get_partitions_command(s); });
  EXPECT_EQ(result.out, list.dump(2) + "\n");
}

TEST(DescribeCommand, DescribesThePartitionNamed) {
  CannedDaemon daemon;
  auto d = batch_view();
  d["devices"] = {{"channels", {{"port", "batch"}, {"packets_in", 1}, {"packets_out", 2}, {"refused", 0}}}};
  daemon.answer("GET", "/v1/partitions/{name}", 200, d);
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return describe_command(s, "batch"); });
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_NE(result.out.find("Name:            batch\n"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Last end:        triple-fault (exit status 103)"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("  channels:  port batch: 1 packets in, 2 out, 0 refused\n"), std::string::npos) << result.out;
}

TEST(DescribeCommand, NamesArePercentEncodedIntoOnePathSegment) {
  CannedDaemon daemon;
  daemon.answer("GET", "/v1/partitions/{name}", 200, web_view());
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return describe_command(s, "a/b c?d"); });
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_EQ(daemon.requests().at(0).params.at("name"), "a/b c?d");
}

TEST(DescribeCommand, AnUnknownPartitionIsTheServersError) {
  CannedDaemon daemon;
  daemon.answer("GET", "/v1/partitions/{name}", 404,
                {{"code", "not_found"}, {"message", "no partition named 'ghost' in the applied policy"}});
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return describe_command(s, "ghost"); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "tilectl: error: server answered 404 (not_found): no partition named 'ghost' in the applied policy\n");
}

TEST(PartitionOperationCommand, PostsEachOperationToItsRoute) {
  CannedDaemon daemon;
  for (const char* op : {"pause", "resume", "restart", "stop"}) {
    daemon.route("POST", std::string("/v1/partitions/{name}/") + op, [op](const api::HttpRequest& request) {
      auto view = web_view();
      view["name"] = request.params.at("name");
      view["state"] = std::string(op) == "pause" ? "paused" : std::string(op) == "stop" ? "stopped" : "running";
      if (std::string(op) == "stop") view["pid"] = 0;
      return api::json_response(200, view);
    });
  }
  daemon.start();
  const std::pair<PartitionOperation, std::string> expected[] = {
      {PartitionOperation::kPause, "paused web: paused (pid 4242)\n"},
      {PartitionOperation::kResume, "resumed web: running (pid 4242)\n"},
      {PartitionOperation::kRestart, "restarted web: running (pid 4242)\n"},
      {PartitionOperation::kStop, "stopped web: stopped\n"}};
  for (const auto& [operation, line] : expected) {
    const auto result = run(daemon.socket(), OutputFormat::kTable,
                            [operation = operation](Session& s) { return partition_operation_command(s, operation, "web"); });
    EXPECT_EQ(result.code, kExitOk) << result.err;
    EXPECT_EQ(result.out, line);
    EXPECT_EQ(daemon.requests().back().path, "/v1/partitions/web/" + std::string(operation_name(operation)));
    EXPECT_EQ(daemon.requests().back().method, "POST");
  }
}

TEST(PartitionOperationCommand, AConflictIsTheServersError) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/partitions/{name}/pause", 409,
                {{"code", "not_running"}, {"message", "partition batch is stopped, not running"}});
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kJson,
                          [](Session& s) { return partition_operation_command(s, PartitionOperation::kPause, "batch"); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_EQ(nlohmann::json::parse(result.out).value("code", ""), "not_running");
  EXPECT_EQ(result.err, "tilectl: error: server answered 409 (not_running): partition batch is stopped, not running\n");
}

TEST(StopAllCommand, ListsWhatWasStopped) {
  CannedDaemon daemon;
  auto web = web_view();
  web["state"] = "stopped";
  web["pid"] = 0;
  daemon.answer("POST", "/v1/partitions/stop", 200, nlohmann::json::array({web, batch_view()}));
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return stop_all_command(s); });
  EXPECT_EQ(result.code, kExitOk);
  EXPECT_EQ(result.out, "stopped web: stopped\nstopped batch: stopped\n");
}

TEST(StopAllCommand, NothingToStop) {
  CannedDaemon daemon;
  daemon.answer("POST", "/v1/partitions/stop", 200, nlohmann::json::array());
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return stop_all_command(s); });
  EXPECT_EQ(result.out, "no partitions to stop\n");
}

TEST(Session, NoDaemonIsExitCodeTwoWithTheClientsMessage) {
  tilehv::testing::TempDir dir;
  const std::string socket = (dir.path() / "absent.sock").string();
  const auto result = run(socket, OutputFormat::kTable, [](Session& s) { return get_partitions_command(s); });
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_EQ(result.err, "tilectl: error: cannot connect to " + socket + ": No such file or directory (is tilehvd running?)\n");
}

TEST(Session, AnErrorWithoutAJsonBodyIsDescribedByItsStatus) {
  CannedDaemon daemon;
  daemon.route("GET", "/v1/partitions", [](const api::HttpRequest&) {
    api::HttpResponse r;
    r.status = 500;
    r.content_type = "text/plain";
    r.body = "boom";
    return r;
  });
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return get_partitions_command(s); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_EQ(result.err, "tilectl: error: server answered 500 Internal Server Error\n");
}

TEST(Session, ASuccessThatIsNotJsonIsAnError) {
  CannedDaemon daemon;
  daemon.route("GET", "/v1/partitions", [](const api::HttpRequest&) {
    api::HttpResponse r;
    r.body = "<html>";
    return r;
  });
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return get_partitions_command(s); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_EQ(result.err, "tilectl: error: the daemon answered 200 with a body that is not JSON\n");
}

TEST(ChooseSocket, FlagThenEnvironmentThenDefault) {
  EXPECT_EQ(choose_socket("/a.sock", "/b.sock"), "/a.sock");
  EXPECT_EQ(choose_socket("", "/b.sock"), "/b.sock");
  EXPECT_EQ(choose_socket("", ""), "/run/tilehv/tilehvd.sock");
  EXPECT_EQ(choose_socket("", nullptr), "/run/tilehv/tilehvd.sock");
}

}  // namespace
}  // namespace tilehv::tilectl

namespace tilehv::tilectl {
namespace {

TEST(SessionFinish, AnOutputThatCannotBeWrittenTurnsSuccessIntoFailure) {
  testing::CannedDaemon daemon;
  daemon.answer("GET", "/v1/partitions", 200, nlohmann::json::array({testing::web_view()}));
  daemon.start();
  std::ostringstream out, err;
  std::istringstream in;
  out.setstate(std::ios::badbit);  // as a full disk leaves it
  Session session(daemon.socket(), OutputFormat::kTable, Terminal{out, err, in, false});
  EXPECT_EQ(session.finish(get_partitions_command(session)), kExitFailed);
  EXPECT_EQ(err.str(), "tilectl: error: cannot write the output: Input/output error\n");
}

}  // namespace
}  // namespace tilehv::tilectl
