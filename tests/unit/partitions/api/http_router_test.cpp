// Tests for HttpRouter: parameters, literal segments before parameters, 404, 405 with Allow, and
// malformed patterns refused at registration.
#include "api/http_router.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

namespace tilehv::api {
namespace {

HttpResponse named(std::string name) {
  HttpResponse response;
  response.body = std::move(name);
  return response;
}

class HttpRouterTest : public ::testing::Test {
 protected:
  HttpRouterTest() {
    router_.route("GET", "/v1/partitions", [](const HttpRequest&) { return named("list"); });
    router_.route("GET", "/v1/partitions/{name}", [](const HttpRequest&) { return named("get"); });
    router_.route("DELETE", "/v1/partitions/{name}", [](const HttpRequest&) { return named("delete"); });
    router_.route("GET", "/v1/partitions/plan", [](const HttpRequest&) { return named("plan"); });
    router_.route("POST", "/v1/partitions/{name}/pause", [](const HttpRequest&) { return named("pause"); });
    router_.stream_route("GET", "/v1/partitions/{name}/console", [](const HttpRequest&, ResponseStream&) {});
  }
  std::string call(std::string_view method, std::string_view path) {
    auto match = router_.resolve(method, path);
    if (!match) return std::to_string(match.error().status);
    if (match->stream_handler != nullptr) return "stream:" + match->params.at("name");
    HttpRequest request;
    std::string out = (*match->handler)(request).body;
    if (match->params.count("name") != 0) out += ":" + match->params.at("name");
    return out;
  }
  HttpRouter router_;
};

TEST_F(HttpRouterTest, RoutesByMethodAndPathWithDecodedParameters) {
  EXPECT_EQ(call("GET", "/v1/partitions"), "list");
  EXPECT_EQ(call("GET", "/v1/partitions/web%201"), "get:web 1");
  EXPECT_EQ(call("DELETE", "/v1/partitions/web"), "delete:web");
  EXPECT_EQ(call("POST", "/v1/partitions/a%2Fb/pause"), "pause:a/b");
  EXPECT_EQ(call("GET", "/v1/partitions/web/console"), "stream:web");
}

TEST_F(HttpRouterTest, LiteralSegmentsWinOverParameters) { EXPECT_EQ(call("GET", "/v1/partitions/plan"), "plan"); }

TEST_F(HttpRouterTest, UnknownPathsAre404AndWrongMethods405WithAllow) {
  EXPECT_EQ(call("GET", "/v1/nothing"), "404");
  EXPECT_EQ(call("GET", "/v1/partitions/"), "404");  // an empty segment names nothing
  EXPECT_EQ(call("GET", "/v1/partitions/a/pause/more"), "404");
  const auto wrong = router_.resolve("PUT", "/v1/partitions/web");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().status, 405);
  ASSERT_EQ(wrong.error().headers.size(), 1U);
  EXPECT_EQ(wrong.error().headers[0].first, "Allow");
  EXPECT_EQ(wrong.error().headers[0].second, "GET, DELETE");
}

TEST_F(HttpRouterTest, BadEscapesInParametersAre400) { EXPECT_EQ(call("GET", "/v1/partitions/a%2"), "400"); }

TEST(HttpRouterPatternTest, RefusesMalformedPatterns) {
  HttpRouter router;
  const Handler nothing = [](const HttpRequest&) { return HttpResponse(); };
  EXPECT_THROW(router.route("GET", "v1/x", nothing), std::invalid_argument);
  EXPECT_THROW(router.route("GET", "/v1/x{name}", nothing), std::invalid_argument);
  EXPECT_THROW(router.route("GET", "/v1/{a}/{a}", nothing), std::invalid_argument);
  EXPECT_THROW(router.route("", "/v1/x", nothing), std::invalid_argument);
  router.route("GET", "/v1/x", nothing);
  EXPECT_THROW(router.route("GET", "/v1/x", nothing), std::invalid_argument);
}

}  // namespace
}  // namespace tilehv::api
