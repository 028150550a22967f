// Tests for streaming routes: concurrent streams beside ordinary requests, clients that leave
// mid-stream, and a server that stops while streams are open.
#include <atomic>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "api/http_client.hpp"
#include "api/http_server.hpp"
#include "unit/partitions/api/api_test_support.hpp"

namespace tilehv::api {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::RawClient;
using testing::status_of;

class HttpServerStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("api.sock");
    auto server = HttpServer::listen({path_});
    ASSERT_TRUE(server) << server.error();
    server_ = std::move(*server);
    server_->route("GET", "/v1/ping", [](const HttpRequest&) { return json_response(200, {{"pong", true}}); });
    // Ticks until the client leaves or the server stops, as the console and events streams do.
    server_->stream_route("GET", "/v1/partitions/{name}/console", [this](const HttpRequest& request,
                                                                        ResponseStream& stream) {
      if (request.params.at("name") == "missing") {
        stream.respond(error_response(404, "not_found", "no partition named 'missing'"));
        return;
      }
      ++streams_started_;
      for (int tick = 0; stream.write(fmt::format("{} {}\n", request.params.at("name"), tick)); ++tick) {
        if (!stream.wait(10ms)) break;
      }
      ++streams_ended_;
    });
    server_->stream_route("GET", "/v1/events", [](const HttpRequest&, ResponseStream& stream) {
      stream.write("one\n");
      stream.write("two\n");
    });
    server_->stream_route("GET", "/v1/broken", [](const HttpRequest&, ResponseStream& stream) {
      stream.write("partial\n");
      throw std::runtime_error("source failed");
    });
    ASSERT_TRUE(server_->start());
  }

  testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<int> streams_started_{0};
  std::atomic<int> streams_ended_{0};
};

TEST_F(HttpServerStreamTest, AFiniteStreamArrivesChunkByChunk) {
  HttpClient client(path_);
  std::vector<std::string> chunks;
  const auto status = client.stream("GET", "/v1/events", [&](std::string_view chunk) {
    chunks.emplace_back(chunk);
    return true;
  });
  ASSERT_TRUE(status) << status.error();
  EXPECT_EQ(*status, 200);
  EXPECT_EQ(chunks, (std::vector<std::string>{"one\n", "two\n"}));
}

TEST_F(HttpServerStreamTest, TwoStreamsAndARequestAreServedTogether) {
  std::atomic<bool> enough{false};
  std::atomic<int> chunks_a{0};
  std::atomic<int> chunks_b{0};
  const auto follow = [&](std::string name, std::atomic<int>& count) {
    HttpClient client(path_);
    const auto status = client.stream("GET", "/v1/partitions/" + name + "/console", [&](std::string_view chunk) {
      EXPECT_EQ(chunk.substr(0, name.size()), name);
      ++count;
      return !enough.load();
    });
    EXPECT_TRUE(status) << status.error();
  };
  std::thread a(follow, "a", std::ref(chunks_a));
  std::thread b(follow, "b", std::ref(chunks_b));
  ASSERT_TRUE(eventually([&] { return chunks_a > 2 && chunks_b > 2; }));
  HttpClient client(path_);
  const auto response = client.request("GET", "/v1/ping");
  ASSERT_TRUE(response) << response.error();
  EXPECT_EQ(response->status, 200);
  enough = true;
  a.join();
  b.join();
  // Both clients left: both handlers notice and return.
  EXPECT_TRUE(eventually([&] { return streams_ended_ == 2; }));
}

TEST_F(HttpServerStreamTest, AClientLeavingMidStreamEndsItsHandler) {
  RawClient client(path_);
  client.send("GET /v1/partitions/p/console HTTP/1.1\r\n\r\n");
  const std::string start = client.read_until("p 2\n");
  EXPECT_EQ(status_of(start), 200);
  EXPECT_NE(start.find("Transfer-Encoding: chunked"), std::string::npos);
  client.close();
  EXPECT_TRUE(eventually([&] { return streams_ended_ == 1; }));
  HttpClient other(path_);
  EXPECT_EQ(other.request("GET", "/v1/ping")->status, 200);
}

TEST_F(HttpServerStreamTest, StoppingTheServerEndsOpenStreams) {
  std::vector<std::thread> clients;
  std::atomic<int> returned{0};
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([&] {
      HttpClient client(path_);
      (void)client.stream("GET", "/v1/partitions/s/console", [](std::string_view) { return true; });
      ++returned;
    });
  }
  ASSERT_TRUE(eventually([&] { return streams_started_ == 2; }));
  server_->stop();
  EXPECT_EQ(streams_ended_, 2);  // stop() joined the connection threads, so the handlers returned
  for (auto& client : clients) client.join();
  EXPECT_EQ(returned, 2);
  // A stopped server accepts no one; destroying it removes its socket.
  server_.reset();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(HttpServerStreamTest, ErrorsBeforeTheStreamAreOrdinaryResponses) {
  HttpClient client(path_);
  bool called = false;
  const auto status = client.stream("GET", "/v1/partitions/missing/console", [&](std::string_view) {
    called = true;
    return true;
  });
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error(), "server answered 404 (not_found): no partition named 'missing'");
  EXPECT_FALSE(called);
}

TEST_F(HttpServerStreamTest, AHandlerFailingMidStreamBreaksTheStreamVisibly) {
  HttpClient client(path_);
  std::string got;
  const auto status = client.stream("GET", "/v1/broken", [&](std::string_view chunk) {
    got += chunk;
    return true;
  });
  EXPECT_EQ(got, "partial\n");
  ASSERT_FALSE(status);
  EXPECT_NE(status.error().find("closed the connection in the middle"), std::string::npos) << status.error();
}

}  // namespace
}  // namespace tilehv::api
