// Tests for HttpRequestParser without sockets: requests assembled byte by byte, pipelining, and
// every limit answered with its status.
#include "api/http_request_parser.hpp"

#include <gtest/gtest.h>

namespace tilehv::api {
namespace {

using State = HttpRequestParser::State;

TEST(HttpRequestParserTest, ParsesARequestFedOneByteAtATime) {
  HttpRequestParser parser({});
  const std::string raw =
      "POST /v1/partitions/a%20b/apply?dry=1 HTTP/1.1\r\nHost: x\r\nX-Thing: one\r\nx-thing: two\r\n"
      "Content-Length: 5\r\n\r\nhello";
  for (const char c : raw) {
    ASSERT_EQ(parser.state(), State::kReading);
    ASSERT_EQ(parser.feed(std::string_view(&c, 1)), 1U);
  }
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_TRUE(parser.keep_alive());
  const HttpRequest request = parser.take_request();
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/v1/partitions/a%20b/apply?dry=1");
  EXPECT_EQ(request.path, "/v1/partitions/a%20b/apply");
  EXPECT_EQ(request.query.at("dry"), "1");
  EXPECT_EQ(request.header("x-thing"), "one, two");
  EXPECT_EQ(request.body, "hello");
}

TEST(HttpRequestParserTest, StopsAfterOneRequestSoThatPipelinedOnesWait) {
  HttpRequestParser parser({});
  const std::string two = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nConnection: close\r\n\r\n";
  const std::size_t first = parser.feed(two);
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(parser.take_request().path, "/a");
  EXPECT_EQ(parser.feed(std::string_view(two).substr(first)), two.size() - first);
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_FALSE(parser.keep_alive());
  EXPECT_EQ(parser.take_request().path, "/b");
}

HttpRequestError failure(std::string_view raw, HttpRequestLimits limits = {}) {
  HttpRequestParser parser(limits);
  parser.feed(raw);
  EXPECT_EQ(parser.state(), State::kFailed) << raw.substr(0, 80);
  return parser.error();
}

TEST(HttpRequestParserTest, AnswersEachLimitWithItsStatus) {
  EXPECT_EQ(failure("GARBAGE\r\n\r\n").status, 400);
  EXPECT_EQ(failure("GET /a HTTP/1.1\r\nBad Header\r\n\r\n").status, 400);
  EXPECT_EQ(failure("GET /a?x=%zz HTTP/1.1\r\n\r\n").code, "malformed_query");
  EXPECT_EQ(failure("GET * HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(failure("CONNECT a:1 HTTP/1.1\r\n\r\n").status, 400);
  EXPECT_EQ(failure("GET /a HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n").status, 431);
  std::string many = "GET /a HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(failure(many + "\r\n").status, 431);
  EXPECT_EQ(failure("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n").status, 414);
  HttpRequestLimits small;
  small.max_body_bytes = 4;
  EXPECT_EQ(failure("POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", small).status, 413);
  EXPECT_EQ(failure("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n").status, 411);
  EXPECT_EQ(failure("POST /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab").status, 400);
}

TEST(HttpRequestParserTest, HeadersExactlyAtTheLimitAreAccepted) {
  HttpRequestLimits limits;
  const std::string head = "GET /a HTTP/1.1\r\nX: ";
  const std::string raw = head + std::string(limits.max_header_bytes - head.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(raw.size(), limits.max_header_bytes);
  HttpRequestParser parser(limits);
  parser.feed(raw);
  EXPECT_EQ(parser.state(), State::kComplete);
}

TEST(HttpRequestParserTest, AsksForContinueOnlyWhenTheClientWaits) {
  HttpRequestParser parser({});
  parser.feed("PUT /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
  EXPECT_TRUE(parser.in_progress());
  EXPECT_TRUE(parser.take_continue());
  EXPECT_FALSE(parser.take_continue());
  parser.feed("ok");
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_EQ(parser.take_request().body, "ok");
}

TEST(HttpRequestParserTest, Http10ClosesUnlessAskedToKeepAlive) {
  HttpRequestParser parser({});
  parser.feed("GET /a HTTP/1.0\r\n\r\n");
  ASSERT_EQ(parser.state(), State::kComplete);
  EXPECT_FALSE(parser.keep_alive());
}

}  // namespace
}  // namespace tilehv::api
