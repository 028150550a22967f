// Tests for the console sinks: RingSink (bounded memory), FileSink (size-capped file), FdSink (a descriptor).
#include "serial/console_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "support/temp_dir.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::vdevices {
namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t count_of(const std::string& haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

// ---- RingSink ----

TEST(RingSinkTest, StartsEmpty) {
  RingSink ring(8);
  EXPECT_EQ(ring.capacity(), 8U);
  EXPECT_EQ(ring.contents(), "");
  EXPECT_EQ(ring.total_bytes(), 0U);
  EXPECT_EQ(ring.dropped_bytes(), 0U);
}

TEST(RingSinkTest, KeepsShortOutputInOrder) {
  RingSink ring(8);
  ring.write(bytes_of("abc"));
  ring.write(bytes_of("de"));
  EXPECT_EQ(ring.contents(), "abcde");
  EXPECT_EQ(ring.total_bytes(), 5U);
}

TEST(RingSinkTest, ExactlyCapacityKeepsEverything) {
  RingSink ring(8);
  ring.write(bytes_of("0123"));
  ring.write(bytes_of("4567"));
  EXPECT_EQ(ring.contents(), "01234567");
}

TEST(RingSinkTest, KeepsOnlyTheLastCapacityBytesOldestFirst) {
  RingSink ring(8);
  ring.write(bytes_of("abcde"));
  ring.write(bytes_of("fghij"));
  EXPECT_EQ(ring.contents(), "cdefghij");
  EXPECT_EQ(ring.total_bytes(), 10U);
  ring.write(bytes_of("k"));
  EXPECT_EQ(ring.contents(), "defghijk");
}

TEST(RingSinkTest, WriteLargerThanCapacityKeepsItsTail) {
  RingSink ring(8);
  ring.write(bytes_of("xyz"));
  ring.write(bytes_of("the quick brown fox"));
  EXPECT_EQ(ring.contents(), "rown fox");
  EXPECT_EQ(ring.total_bytes(), 22U);
  ring.write(bytes_of("!"));
  EXPECT_EQ(ring.contents(), "own fox!");
}

TEST(RingSinkTest, ManyWrapsMatchTheTailOfEverythingWritten) {
  RingSink ring(13);
  std::string all;
  for (int i = 0; i < 500; ++i) {
    // Writes of lengths 0..29, so the head lands everywhere in the buffer, including exact multiples.
    std::string chunk;
    for (int j = 0; j < i % 30; ++j) chunk.push_back(static_cast<char>('a' + (i + j) % 26));
    ring.write(bytes_of(chunk));
    all += chunk;
    const std::size_t keep = std::min<std::size_t>(all.size(), 13);
    ASSERT_EQ(ring.contents(), all.substr(all.size() - keep)) << "after write " << i;
  }
  EXPECT_EQ(ring.total_bytes(), all.size());
}

TEST(RingSinkTest, EmptyWriteChangesNothing) {
  RingSink ring(4);
  ring.write(bytes_of("ab"));
  ring.write(std::span<const std::uint8_t>{});
  EXPECT_EQ(ring.contents(), "ab");
  EXPECT_EQ(ring.total_bytes(), 2U);
}

TEST(RingSinkTest, CapacityZeroKeepsNothingButCountsEverything) {
  RingSink ring(0);
  EXPECT_EQ(ring.capacity(), 0U);
  ring.write(bytes_of("discarded"));
  ring.write(bytes_of("also"));
  EXPECT_EQ(ring.contents(), "");
  EXPECT_EQ(ring.total_bytes(), 13U);
}

TEST(RingSinkTest, CapacityOne) {
  RingSink ring(1);
  ring.write(bytes_of("abc"));
  EXPECT_EQ(ring.contents(), "c");
  ring.write(bytes_of("d"));
  EXPECT_EQ(ring.contents(), "d");
  EXPECT_EQ(ring.total_bytes(), 4U);
}

// ---- FileSink ----

TEST(FileSinkTest, WritesToTheFile) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "console.log").string();
  auto sink = FileSink::create(path, 1024);
  ASSERT_TRUE(sink.has_value()) << sink.error();
  (*sink)->write(bytes_of("hello "));
  (*sink)->write(bytes_of("world\n"));
  EXPECT_EQ(read_file(path), "hello world\n");
  EXPECT_EQ((*sink)->dropped_bytes(), 0U);
}

TEST(FileSinkTest, TruncatesAnExistingFile) {
  testing::TempDir dir;
  const std::string path = dir.write("console.log", std::string("stale output from an earlier run"));
  auto sink = FileSink::create(path, 1024);
  ASSERT_TRUE(sink.has_value()) << sink.error();
  (*sink)->write(bytes_of("new"));
  EXPECT_EQ(read_file(path), "new");
}

TEST(FileSinkTest, StopsAtItsLimitWithOneMarkerLine) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "console.log").string();
  auto sink = FileSink::create(path, 10);
  ASSERT_TRUE(sink.has_value()) << sink.error();
  (*sink)->write(bytes_of("0123456"));
  (*sink)->write(bytes_of("789abc"));  // crosses the limit: 3 of these fit
  EXPECT_EQ((*sink)->dropped_bytes(), 3U);
  (*sink)->write(bytes_of("more"));
  (*sink)->write(bytes_of("and more"));
  EXPECT_EQ((*sink)->dropped_bytes(), 15U);

  const std::string text = read_file(path);
  ASSERT_GE(text.size(), 10U);
  EXPECT_EQ(text.substr(0, 10), "0123456789");
  const std::string marker = text.substr(10);
  EXPECT_EQ(count_of(marker, "\n"), 2U) << "one line, set apart from the guest's output: " << marker;
  EXPECT_NE(marker.find("limit"), std::string::npos) << marker;
  EXPECT_EQ(marker.find("abc"), std::string::npos);
  EXPECT_EQ(marker.find("more"), std::string::npos);
}

TEST(FileSinkTest, ReachingTheLimitExactlyWritesNoMarkerYet) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "console.log").string();
  auto sink = FileSink::create(path, 10);
  ASSERT_TRUE(sink.has_value()) << sink.error();
  (*sink)->write(bytes_of("0123456789"));
  EXPECT_EQ(read_file(path), "0123456789");
  EXPECT_EQ((*sink)->dropped_bytes(), 0U);

  (*sink)->write(bytes_of("x"));
  EXPECT_EQ((*sink)->dropped_bytes(), 1U);
  const std::string text = read_file(path);
  EXPECT_GT(text.size(), 10U) << "the first dropped byte writes the marker";
  EXPECT_EQ(text.find('x'), std::string::npos);
}

TEST(FileSinkTest, MarkerIsWrittenOnlyOnce) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "console.log").string();
  auto sink = FileSink::create(path, 4);
  ASSERT_TRUE(sink.has_value()) << sink.error();
  (*sink)->write(bytes_of("abcdef"));
  const std::string after_first = read_file(path);
  for (int i = 0; i < 50; ++i) (*sink)->write(bytes_of("flood"));
  EXPECT_EQ(read_file(path), after_first);
  EXPECT_EQ((*sink)->dropped_bytes(), 2U + 50U * 5U);
}

TEST(FileSinkTest, LimitZeroDropsEverything) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "console.log").string();
  auto sink = FileSink::create(path, 0);
  ASSERT_TRUE(sink.has_value()) << sink.error();
  (*sink)->write(bytes_of("nothing fits"));
  EXPECT_EQ((*sink)->dropped_bytes(), 12U);
  const std::string text = read_file(path);
  EXPECT_EQ(text.find("nothing"), std::string::npos);
  EXPECT_NE(text.find("limit"), std::string::npos);
}

TEST(FileSinkTest, RefusesAPathInAMissingDirectory) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "no-such-dir" / "console.log").string();
  auto sink = FileSink::create(path, 1024);
  ASSERT_FALSE(sink.has_value());
  EXPECT_NE(sink.error().find(path), std::string::npos) << sink.error();
}

TEST(FileSinkTest, RefusesADirectory) {
  testing::TempDir dir;
  auto sink = FileSink::create(dir.path().string(), 1024);
  ASSERT_FALSE(sink.has_value());
  EXPECT_NE(sink.error().find(dir.path().string()), std::string::npos) << sink.error();
}

// ---- FdSink ----

struct Pipe {
  Pipe() {
    std::array<int, 2> fds{-1, -1};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) std::abort();
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
  }
  std::string read_available(std::size_t max) const {
    std::string out(max, '\0');
    const ssize_t n = ::read(read_end.get(), out.data(), max);
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
  }
  util::UniqueFd read_end;
  util::UniqueFd write_end;
};

TEST(FdSinkTest, WritesToAPipe) {
  Pipe pipe;
  FdSink sink(pipe.write_end.get());
  sink.write(bytes_of("console "));
  sink.write(bytes_of("line\n"));
  EXPECT_EQ(pipe.read_available(64), "console line\n");
  EXPECT_EQ(sink.dropped_bytes(), 0U);
}

TEST(FdSinkTest, WriteLargerThanOneChunkArrivesWhole) {
  Pipe pipe;
  FdSink sink(pipe.write_end.get());
  std::string big(16 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  sink.write(bytes_of(big));
  std::string got;
  while (got.size() < big.size()) {
    const std::string part = pipe.read_available(big.size() - got.size());
    ASSERT_FALSE(part.empty());
    got += part;
  }
  EXPECT_EQ(got, big);
  EXPECT_EQ(sink.dropped_bytes(), 0U);
}

TEST(FdSinkTest, ReaderGoneCountsDroppedBytesWithoutCrashing) {
  // A console reader that went away raises SIGPIPE; the VMM ignores it, so the test does too.
  const auto previous = std::signal(SIGPIPE, SIG_IGN);
  ASSERT_NE(previous, SIG_ERR);
  {
    Pipe pipe;
    pipe.read_end.reset();
    FdSink sink(pipe.write_end.get());
    sink.write(bytes_of("lost"));
    EXPECT_EQ(sink.dropped_bytes(), 4U);
    sink.write(bytes_of("also lost"));
    EXPECT_EQ(sink.dropped_bytes(), 13U);
  }
  std::signal(SIGPIPE, previous);
}

TEST(FdSinkTest, InvalidDescriptorCountsDroppedBytes) {
  FdSink sink(-1);
  sink.write(bytes_of("nowhere"));
  EXPECT_EQ(sink.dropped_bytes(), 7U);
}

TEST(FdSinkTest, EmptyWriteDropsNothing) {
  FdSink sink(-1);
  sink.write(std::span<const std::uint8_t>{});
  EXPECT_EQ(sink.dropped_bytes(), 0U);
}

}  // namespace
}  // namespace tilehv::vdevices
