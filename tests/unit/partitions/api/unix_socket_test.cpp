// Tests for the control socket: its mode and group, stale sockets replaced, live servers and other
// files never displaced.
#include "api/unix_socket.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "api/http_client.hpp"
#include "api/http_server.hpp"
#include "unit/partitions/api/api_test_support.hpp"

namespace tilehv::api {
namespace {

using namespace std::chrono_literals;

TEST(UnixSocketTest, SocketHasMode0660AndTheGivenGroup) {
  testing::TempDir dir;
  const std::string path = dir.file("api.sock");
  UnixListenOptions options{path};
  options.group = std::to_string(::getegid());
  auto fd = listen_unix(options);
  ASSERT_TRUE(fd) << fd.error();
  struct stat info{};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 07777, 0660U);
  EXPECT_EQ(info.st_gid, ::getegid());
}

TEST(UnixSocketTest, UnknownGroupsAndLongPathsAreRefused) {
  testing::TempDir dir;
  UnixListenOptions options{dir.file("api.sock")};
  options.group = "no-such-group-tilehv";
  EXPECT_NE(listen_unix(options).error().find("no group named 'no-such-group-tilehv'"), std::string::npos);
  EXPECT_NE(listen_unix({"/" + std::string(200, 'x')}).error().find("longer than"), std::string::npos);
}

TEST(UnixSocketTest, ALiveServerKeepsItsSocket) {
  testing::TempDir dir;
  const std::string path = dir.file("api.sock");
  auto first = HttpServer::listen({path});
  ASSERT_TRUE(first) << first.error();
  (*first)->route("GET", "/v1/ping", [](const HttpRequest&) { return json_response(200, {{"pong", true}}); });
  ASSERT_TRUE((*first)->start());
  const auto second = HttpServer::listen({path});
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().find("another server is listening on " + path), std::string::npos) << second.error();
  HttpClient client(path);
  EXPECT_EQ(client.request("GET", "/v1/ping")->status, 200);
}

TEST(UnixSocketTest, AStaleSocketIsReplaced) {
  testing::TempDir dir;
  const std::string path = dir.file("api.sock");
  {
    auto dead = listen_unix({path});  // closed without removing its file, as after a crash
    ASSERT_TRUE(dead) << dead.error();
  }
  ASSERT_TRUE(std::filesystem::exists(path));
  auto fresh = listen_unix({path});
  EXPECT_TRUE(fresh) << fresh.error();
}

TEST(UnixSocketTest, OtherFilesAreNeverReplaced) {
  testing::TempDir dir;
  const std::string path = dir.file("api.sock");
  std::ofstream(path) << "precious";
  const auto refused = listen_unix({path});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("is not a socket"), std::string::npos);
  std::ifstream in(path);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST(UnixSocketTest, ConnectErrorsNameThePathAndAHint) {
  testing::TempDir dir;
  const auto missing = connect_unix(dir.file("none.sock"), 100ms);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("(is tilehvd running?)"), std::string::npos);
}

}  // namespace
}  // namespace tilehv::api
