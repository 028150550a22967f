// Stream commands against a real HTTP server: console bytes, event lines across chunk boundaries,
// and errors before a stream begins.
#include <gtest/gtest.h>

#include "api/response_stream.hpp"
#include "support/process.hpp"
#include "tilectl/commands.hpp"
#include "tilectl_test_support.hpp"

namespace tilehv::tilectl {
namespace {

using testing::CannedDaemon;
using testing::run;

std::string event_line(int seq, const std::string& type, const std::string& partition, const std::string& message) {
  nlohmann::json e{{"seq", seq}, {"time", "2024-05-01T10:00:0" + std::to_string(seq) + "Z"}, {"type", type}, {"message", message}};
  if (!partition.empty()) e["partition"] = partition;
  return e.dump() + "\n";
}

TEST(ConsoleCommand, CopiesTheGuestsBytesUnchanged) {
  CannedDaemon daemon;
  const std::string bytes = std::string("boot\r\n\x1b[1mbold\x1b[0m\n") + std::string(1, '\0') + "end";
  daemon.stream_route("GET", "/v1/partitions/{name}/console", [&](const api::HttpRequest&, api::ResponseStream& stream) {
    stream.begin(200, "text/plain; charset=utf-8");
    stream.write(bytes.substr(0, 7));
    stream.write(bytes.substr(7));
  });
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return console_command(s, "web", true); });
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_EQ(result.out, bytes);
  EXPECT_EQ(daemon.requests().at(0).params.at("name"), "web");
  EXPECT_EQ(daemon.requests().at(0).query.at("follow"), "1");
}

TEST(ConsoleCommand, WithoutFollowAsksForNoFollowing) {
  CannedDaemon daemon;
  daemon.stream_route("GET", "/v1/partitions/{name}/console",
                      [](const api::HttpRequest&, api::ResponseStream& stream) { stream.write("x"); });
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return console_command(s, "web", false); });
  EXPECT_EQ(result.out, "x");
  EXPECT_EQ(daemon.requests().at(0).query.count("follow"), 0u);
}

TEST(ConsoleCommand, AnUnknownPartitionIsTheServersError) {
  CannedDaemon daemon;
  daemon.stream_route("GET", "/v1/partitions/{name}/console", [](const api::HttpRequest&, api::ResponseStream& stream) {
    stream.respond(api::error_response(404, "not_found", "no partition named 'ghost' in the applied policy"));
  });
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return console_command(s, "ghost", true); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "tilectl: error: server answered 404 (not_found): no partition named 'ghost' in the applied policy\n");
}

TEST(ConsoleCommand, NoDaemonIsExitCodeTwo) {
  tilehv::testing::TempDir dir;
  const auto result = run((dir.path() / "absent.sock").string(), OutputFormat::kTable,
                          [](Session& s) { return console_command(s, "web", true); });
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_NE(result.err.find("is tilehvd running?"), std::string::npos) << result.err;
}

class EventsCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string all = event_line(1, "policy.applied", "", "policy tile.yaml applied") +
                            event_line(2, "partition.started", "web", "web started (pid 4242)") +
                            event_line(3, "partition.ended", "web", "web ended:\x1b[31m triple-fault");
    // Chunk boundaries in the middle of lines, as the network may cut them.
    daemon_.stream_route("GET", "/v1/events", [all](const api::HttpRequest&, api::ResponseStream& stream) {
      stream.begin(200, "application/x-ndjson");
      for (std::size_t at = 0; at < all.size(); at += 17) stream.write(all.substr(at, 17));
    });
    daemon_.start();
  }
  CannedDaemon daemon_;
};

TEST_F(EventsCommandTest, OneLinePerEvent) {
  const auto result = run(daemon_.socket(), OutputFormat::kTable, [](Session& s) { return events_command(s, false, std::nullopt); });
  EXPECT_EQ(result.code, kExitOk) << result.err;
  EXPECT_EQ(result.out,
            "1 2024-05-01T10:00:01Z policy.applied - policy tile.yaml applied\n"
            "2 2024-05-01T10:00:02Z partition.started web web started (pid 4242)\n"
            "3 2024-05-01T10:00:03Z partition.ended web web ended:?[31m triple-fault\n");
}

TEST_F(EventsCommandTest, JsonLinesPassThrough) {
  const auto result = run(daemon_.socket(), OutputFormat::kJson, [](Session& s) { return events_command(s, false, std::nullopt); });
  EXPECT_EQ(result.code, kExitOk);
  const auto lines = tilehv::testing::split_lines(result.out);
  ASSERT_EQ(lines.size(), 3u);
  for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(nlohmann::json::parse(lines[i]).value("seq", 0), i + 1);
}

TEST_F(EventsCommandTest, FollowAndSinceAreSentAsQueryParameters) {
  (void)run(daemon_.socket(), OutputFormat::kTable, [](Session& s) { return events_command(s, true, 41); });
  const auto seen = daemon_.requests().at(0);
  EXPECT_EQ(seen.query.at("follow"), "1");
  EXPECT_EQ(seen.query.at("since"), "41");
}

TEST(EventsCommand, AStreamEndingMidLinePrintsTheRest) {
  CannedDaemon daemon;
  daemon.stream_route("GET", "/v1/events", [](const api::HttpRequest&, api::ResponseStream& stream) {
    stream.write(event_line(1, "a", "", "one") + "not json");
  });
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return events_command(s, false, std::nullopt); });
  EXPECT_EQ(result.out, "1 2024-05-01T10:00:01Z a - one\nnot json\n");
}

TEST(EventsCommand, AnEndlessLineIsRefused) {
  CannedDaemon daemon;
  daemon.stream_route("GET", "/v1/events", [](const api::HttpRequest&, api::ResponseStream& stream) {
    const std::string block(64 * 1024, 'x');
    for (int i = 0; i < 40 && stream.write(block); ++i) {
    }
  });
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return events_command(s, false, std::nullopt); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_EQ(result.err, "tilectl: error: a line of the stream is longer than 1048576 bytes\n");
}

TEST(EventsCommand, ABadSinceIsTheServersError) {
  CannedDaemon daemon;
  daemon.stream_route("GET", "/v1/events", [](const api::HttpRequest&, api::ResponseStream& stream) {
    stream.respond(api::error_response(400, "bad_request", "since must be an event number"));
  });
  daemon.start();
  const auto result = run(daemon.socket(), OutputFormat::kTable, [](Session& s) { return events_command(s, false, 1); });
  EXPECT_EQ(result.code, kExitFailed);
  EXPECT_EQ(result.err, "tilectl: error: server answered 400 (bad_request): since must be an event number\n");
}

}  // namespace
}  // namespace tilehv::tilectl
