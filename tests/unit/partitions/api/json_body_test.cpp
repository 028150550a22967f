// Tests for JSON request bodies: parsed, or refused with 400/415 naming the problem.
#include "api/json_body.hpp"

#include <gtest/gtest.h>

namespace tilehv::api {
namespace {

HttpRequest with_body(std::string body, std::string type = "application/json") {
  HttpRequest request;
  request.body = std::move(body);
  if (!type.empty()) request.headers["content-type"] = std::move(type);
  return request;
}

TEST(JsonBodyTest, ParsesJson) {
  const auto parsed = parse_json_body(with_body(R"({"a": [1, 2]})", "application/json; charset=utf-8"));
  ASSERT_TRUE(parsed);
  EXPECT_EQ((*parsed)["a"][1], 2);
  EXPECT_TRUE(parse_json_body(with_body("{}", "")));
}

TEST(JsonBodyTest, RefusesBadBodiesWithTheReason) {
  const auto bad = parse_json_body(with_body(R"({"a": )"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().status, 400);
  EXPECT_NE(bad.error().body.find("malformed_json"), std::string::npos);
  EXPECT_EQ(parse_json_body(with_body("")).error().status, 400);
  EXPECT_EQ(parse_json_body(with_body("[1E999999]")).error().status, 400);  // overflows a double
  EXPECT_EQ(parse_json_body(with_body("{}", "text/plain")).error().status, 415);
  EXPECT_NE(parse_json_body(with_body(std::string(100000, '['))).error().body.find("deeper"), std::string::npos);
  // Brackets inside strings are text, not nesting.
  EXPECT_TRUE(parse_json_body(with_body("\"" + std::string(1000, '[') + "\"")));
}

}  // namespace
}  // namespace tilehv::api
