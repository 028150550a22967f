// Tests for HttpServer on a real unix socket with real clients: routing, keep-alive, and each bad
// request (raw bytes) answered with its error while the server keeps serving others.
#include "api/http_server.hpp"

#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "api/http_client.hpp"
#include "api/json_body.hpp"
#include "unit/partitions/api/api_test_support.hpp"

namespace tilehv::api {
namespace {

using namespace std::chrono_literals;
using testing::body_of;
using testing::eventually;
using testing::RawClient;
using testing::status_of;

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpServerLimits limits = {}) {
    path_ = dir_.file("api.sock");
    auto server = HttpServer::listen({path_}, limits);
    ASSERT_TRUE(server) << server.error();
    server_ = std::move(*server);
    server_->route("GET", "/v1/ping", [](const HttpRequest&) { return json_response(200, {{"pong", true}}); });
    server_->route("GET", "/v1/partitions/{name}", [](const HttpRequest& request) {
      return json_response(200, {{"name", request.params.at("name")}, {"query", request.query}});
    });
    server_->route("POST", "/v1/partitions/{name}/apply", [](const HttpRequest& request) {
      auto body = parse_json_body(request);
      if (!body) return body.error();
      return json_response(200, {{"name", request.params.at("name")}, {"got", *body}});
    });
    server_->route("POST", "/v1/echo", [](const HttpRequest& request) {
      HttpResponse response;
      response.content_type = "text/plain";
      response.body = request.body;
      return response;
    });
    server_->route("POST", "/v1/fail", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
    server_->route("GET", "/v1/slow", [](const HttpRequest&) {
      std::this_thread::sleep_for(300ms);  // a handler that takes a while (an apply)
      return json_response(200, {{"slow", true}});
    });
    ASSERT_TRUE(server_->start());
  }
  // One request on a fresh raw connection; the whole answer up to the server's close.
  std::string raw(std::string_view bytes) {
    RawClient client(path_);
    EXPECT_TRUE(client.connected());
    client.send(bytes);
    return client.read_all();
  }
  void expect_still_serving() {
    HttpClient client(path_);
    const auto response = client.request("GET", "/v1/ping");
    ASSERT_TRUE(response) << response.error();
    EXPECT_EQ(response->status, 200);
  }

  testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, RoutesWithDecodedParametersAndQueries) {
  start();
  HttpClient client(path_);
  const auto response = client.request("GET", "/v1/partitions/web%201?watch=1&x=%2F");
  ASSERT_TRUE(response) << response.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->content_type, "application/json");
  const auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body["name"], "web 1");
  EXPECT_EQ(body["query"]["watch"], "1");
  EXPECT_EQ(body["query"]["x"], "/");
}

TEST_F(HttpServerTest, PostsJsonAndRefusesMalformedJson) {
  start();
  HttpClient client(path_);
  const auto good = client.request("POST", "/v1/partitions/a/apply", R"({"replicas": 2})");
  ASSERT_TRUE(good) << good.error();
  EXPECT_EQ(nlohmann::json::parse(good->body)["got"]["replicas"], 2);
  const auto bad = client.request("POST", "/v1/partitions/a/apply", R"({"replicas": )");
  ASSERT_TRUE(bad) << bad.error();
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(nlohmann::json::parse(bad->body)["code"], "malformed_json");
  EXPECT_NE(describe_error_response(*bad).find("server answered 400 (malformed_json)"), std::string::npos);
}

TEST_F(HttpServerTest, KeepsConnectionsAliveAndHonoursConnectionClose) {
  start();
  HttpClient client(path_);
  for (int i = 0; i < 5; ++i) {
    const auto response = client.request("GET", "/v1/ping");
    ASSERT_TRUE(response) << response.error();
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(server_->stats().connections_accepted, 1U);

  // Two pipelined requests, the second asking to close: both answered, then the server closes.
  RawClient pipelined(path_);
  pipelined.send("GET /v1/ping HTTP/1.1\r\n\r\nGET /v1/ping HTTP/1.1\r\nConnection: close\r\n\r\n");
  const std::string both = pipelined.read_all();
  EXPECT_EQ(status_of(both), 200);
  EXPECT_NE(both.find("HTTP/1.1 200", 10), std::string::npos);
  EXPECT_NE(both.find("Connection: close"), std::string::npos);
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  start();
  const std::string missing = raw("GET /v1/nothing HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(missing), 404);
  EXPECT_EQ(nlohmann::json::parse(body_of(missing))["code"], "not_found");
  const std::string wrong = raw("DELETE /v1/ping HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(status_of(wrong), 405);
  EXPECT_NE(wrong.find("Allow: GET\r\n"), std::string::npos);
}

TEST_F(HttpServerTest, MalformedRequestsAre400) {
  start();
  // Requests the parser cannot frame end their connection; the others asked for it.
  for (const std::string bad : {"GARBAGE\r\n\r\n", "GET /v1/ping HTTP/1.1\r\nNo colon here\r\n\r\n",
                                "GET /v1/partitions/a%zz HTTP/1.1\r\nConnection: close\r\n\r\n",
                                "GET /v1/ping?a=1&a=2 HTTP/1.1\r\n\r\n", "GET * HTTP/1.1\r\n\r\n"}) {
    const std::string answer = raw(bad);
    EXPECT_EQ(status_of(answer), 400) << bad;
    const auto body = nlohmann::json::parse(body_of(answer));
    EXPECT_TRUE(body["message"].is_string());
  }
  expect_still_serving();
}

TEST_F(HttpServerTest, OversizedHeadersAre431) {
  start();
  const std::string answer = raw("GET /v1/ping HTTP/1.1\r\nX-Big: " + std::string(20 * 1024, 'a') + "\r\n\r\n");
  EXPECT_EQ(status_of(answer), 431);
  expect_still_serving();
}

TEST_F(HttpServerTest, OversizedBodiesAre413BeforeTheBodyIsRead) {
  HttpServerLimits limits;
  limits.max_body_bytes = 1024;
  start(limits);
  // Only the head is sent: the server must answer from Content-Length, without waiting for 2 KiB.
  const std::string answer = raw("POST /v1/echo HTTP/1.1\r\nContent-Length: 2048\r\n\r\n");
  EXPECT_EQ(status_of(answer), 413);
  EXPECT_EQ(nlohmann::json::parse(body_of(answer))["code"], "body_too_large");
  HttpClient client(path_);
  const auto fits = client.request("POST", "/v1/echo", std::string(1024, 'x'), "text/plain");
  ASSERT_TRUE(fits) << fits.error();
  EXPECT_EQ(fits->body.size(), 1024U);
}

// A client sending a body far larger than the socket's buffers is cut off mid-send: it still reads
// the server's early 413 rather than reporting a broken pipe.
TEST_F(HttpServerTest, AClientCutOffMidBodyReadsTheEarly413) {
  HttpServerLimits limits;
  limits.max_body_bytes = 1024;
  start(limits);
  HttpClient client(path_);
  const auto refused = client.request("POST", "/v1/echo", std::string(8 << 20, 'x'), "text/plain");
  ASSERT_TRUE(refused) << refused.error();
  EXPECT_EQ(refused->status, 413);
  EXPECT_NE(refused->body.find("body_too_large"), std::string::npos) << refused->body;
  expect_still_serving();
}

TEST_F(HttpServerTest, ChunkedRequestBodiesAre411) {
  start();
  const std::string answer =
      raw("POST /v1/echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(status_of(answer), 411);
  expect_still_serving();
}

TEST_F(HttpServerTest, HandlerExceptionsAre500AndTheConnectionGoesOn) {
  start();
  HttpClient client(path_);
  const auto failed = client.request("POST", "/v1/fail");
  ASSERT_TRUE(failed) << failed.error();
  EXPECT_EQ(failed->status, 500);
  const auto body = nlohmann::json::parse(failed->body);
  EXPECT_EQ(body["code"], "internal_error");
  EXPECT_NE(body["message"].get<std::string>().find("boom"), std::string::npos);
  EXPECT_EQ(client.request("GET", "/v1/ping")->status, 200);
  EXPECT_EQ(server_->stats().connections_accepted, 1U);
  EXPECT_GE(server_->stats().responses_by_class[5], 1U);
}

TEST_F(HttpServerTest, SlowClientsGet408WhileOthersAreServed) {
  HttpServerLimits limits;
  limits.request_timeout = 300ms;
  start(limits);
  RawClient slow(path_);
  std::thread trickle([&] {
    // One byte per 100 ms: the request would take seconds; the deadline ends it first.
    for (const char c : std::string("GET /v1/ping HTTP/1.1\r\nHost: somewhere.example\r\n\r\n")) {
      if (!slow.send(std::string_view(&c, 1))) break;
      std::this_thread::sleep_for(100ms);
    }
  });
  expect_still_serving();
  const std::string answer = slow.read_all(20s);
  trickle.join();
  EXPECT_EQ(status_of(answer), 408);
  EXPECT_EQ(nlohmann::json::parse(body_of(answer))["code"], "request_timeout");
}

TEST_F(HttpServerTest, SilentClientsAre408Too) {
  HttpServerLimits limits;
  limits.request_timeout = 200ms;
  start(limits);
  RawClient silent(path_);
  EXPECT_EQ(status_of(silent.read_all(20s)), 408);
}

TEST_F(HttpServerTest, TooManyConnectionsAre503AndCapacityReturns) {
  HttpServerLimits limits;
  limits.max_connections = 2;
  start(limits);
  RawClient first(path_);
  RawClient second(path_);
  for (RawClient* client : {&first, &second}) {
    client->send("GET /v1/ping HTTP/1.1\r\n\r\n");
    EXPECT_EQ(status_of(client->read_until("}\n")), 200);
  }
  RawClient third(path_);
  const std::string refused = third.read_all();
  EXPECT_EQ(status_of(refused), 503);
  EXPECT_EQ(nlohmann::json::parse(body_of(refused))["code"], "too_many_connections");
  EXPECT_EQ(server_->stats().connections_rejected, 1U);
  first.close();
  ASSERT_TRUE(eventually([&] { return server_->stats().connections_open < 2; }));
  expect_still_serving();
}

TEST_F(HttpServerTest, ASlowHandlerDoesNotBlockOtherClients) {
  start();
  std::thread slow([&] {
    HttpClient client(path_);
    const auto response = client.request("GET", "/v1/slow");
    ASSERT_TRUE(response) << response.error();
    EXPECT_EQ(response->status, 200);
  });
  expect_still_serving();
  slow.join();
}

TEST_F(HttpServerTest, CountsRequestsByStatusClass) {
  start();
  HttpClient client(path_);
  (void)client.request("GET", "/v1/ping");
  (void)client.request("GET", "/v1/none");
  const auto stats = server_->stats();
  EXPECT_EQ(stats.requests, 2U);
  EXPECT_EQ(stats.responses_by_class[2], 1U);
  EXPECT_EQ(stats.responses_by_class[4], 1U);
}

TEST_F(HttpServerTest, RoutesCannotChangeAfterStart) {
  start();
  EXPECT_THROW(server_->route("GET", "/v1/late", [](const HttpRequest&) { return HttpResponse(); }), std::logic_error);
}

TEST_F(HttpServerTest, ClientErrorsSayWhatToCheck) {
  HttpClient client(dir_.file("missing.sock"));
  const auto response = client.request("GET", "/v1/ping");
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error(),
            "cannot connect to " + dir_.file("missing.sock") + ": No such file or directory (is tilehvd running?)");
  start();
  HttpClient good(path_);
  EXPECT_FALSE(good.request("GET", "/v1/bad target"));
}

}  // namespace
}  // namespace tilehv::api
