// Tests for run options: parsing `tilehv run` memory sizes, console targets and timeouts.
#include "cli/run_options.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace tilehv::cli {
namespace {

constexpr std::uint64_t kKiB = 1ULL << 10;
constexpr std::uint64_t kMiB = 1ULL << 20;
constexpr std::uint64_t kGiB = 1ULL << 30;
constexpr std::uint64_t kTiB = 1ULL << 40;

std::uint64_t size_of(const std::string& text) {
  const auto r = parse_memory_size(text);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? std::string() : r.error());
  return r.value_or(0);
}

TEST(ParseMemorySizeTest, SuffixesAreBinaryUnits) {
  EXPECT_EQ(size_of("64M"), 64 * kMiB);
  EXPECT_EQ(size_of("64MiB"), 64 * kMiB);
  EXPECT_EQ(size_of("1g"), kGiB);
  EXPECT_EQ(size_of("1G"), kGiB);
  EXPECT_EQ(size_of("3GiB"), 3 * kGiB);
  EXPECT_EQ(size_of("512K"), 512 * kKiB);
  EXPECT_EQ(size_of("512kib"), 512 * kKiB);
  EXPECT_EQ(size_of("2T"), 2 * kTiB);
  EXPECT_EQ(size_of("2TiB"), 2 * kTiB);
}

TEST(ParseMemorySizeTest, BareNumberIsMiB) {
  EXPECT_EQ(size_of("128"), 128 * kMiB);
  EXPECT_EQ(size_of("1"), kMiB);
}

TEST(ParseMemorySizeTest, ZeroParses) {
  // The parser checks syntax only; the VMM refuses sizes below its minimum.
  EXPECT_EQ(size_of("0"), 0U);
  EXPECT_EQ(size_of("0G"), 0U);
}

TEST(ParseMemorySizeTest, LargestRepresentableSizes) {
  EXPECT_EQ(size_of("16777215T"), 16777215ULL * kTiB);
  EXPECT_EQ(size_of("17179869183G"), 17179869183ULL * kGiB);
}

TEST(ParseMemorySizeTest, OverflowIsRefused) {
  for (const char* text : {"99999999999999999999G", "99999999999999999999", "16777216T", "17179869184G",
                           "17592186044416M", "18014398509481984K", "18446744073709551616"}) {
    const auto r = parse_memory_size(text);
    EXPECT_FALSE(r.has_value()) << text << " gave " << r.value_or(0);
  }
}

TEST(ParseMemorySizeTest, GarbageIsRefusedWithTheText) {
  for (const char* text : {"", "garbage", "M", "-1", "-64M", "+64M", " 64M", "0x40M", "1.5G", "G64"}) {
    const auto r = parse_memory_size(text);
    ASSERT_FALSE(r.has_value()) << "'" << text << "' gave " << r.value();
    EXPECT_NE(r.error().find(std::string("'") + text + "'"), std::string::npos) << r.error();
  }
}

TEST(ParseMemorySizeTest, UnknownSuffixIsRefused) {
  for (const char* text : {"64X", "64MB", "64 M", "64M ", "64m1", "1P", "1E", "64Mi", "64B", "64MIBS"}) {
    const auto r = parse_memory_size(text);
    EXPECT_FALSE(r.has_value()) << "'" << text << "' gave " << r.value_or(0);
  }
  const auto r = parse_memory_size("64X");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("'X'"), std::string::npos) << r.error();
}

TEST(ParseConsoleTest, Stdout) {
  const auto r = parse_console("stdout");
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->kind, ConsoleTarget::Kind::kStdout);
  EXPECT_TRUE(r->path.empty());
}

TEST(ParseConsoleTest, FileWithPath) {
  const auto r = parse_console("file:/tmp/console.log");
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->kind, ConsoleTarget::Kind::kFile);
  EXPECT_EQ(r->path, "/tmp/console.log");

  const auto rel = parse_console("file:out/c:1.log");
  ASSERT_TRUE(rel.has_value()) << rel.error();
  EXPECT_EQ(rel->path, "out/c:1.log") << "only the first 'file:' is the prefix";
}

TEST(ParseConsoleTest, FileWithoutPathIsRefused) {
  const auto r = parse_console("file:");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().find("path"), std::string::npos) << r.error();
}

TEST(ParseConsoleTest, OtherTargetsAreRefused) {
  for (const char* text : {"", "stderr", "STDOUT", "stdout ", "file", "File:/tmp/x", "/tmp/console.log",
                           "tcp:127.0.0.1:4444"}) {
    const auto r = parse_console(text);
    ASSERT_FALSE(r.has_value()) << "'" << text << "'";
    EXPECT_FALSE(r.error().empty());
  }
}

double timeout_of(const std::string& text) {
  const auto r = parse_timeout(text);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? std::string() : r.error());
  return r.value_or(-1);
}

TEST(ParseTimeoutTest, AcceptsPositiveSeconds) {
  EXPECT_DOUBLE_EQ(timeout_of("0.5"), 0.5);
  EXPECT_DOUBLE_EQ(timeout_of("10"), 10.0);
  EXPECT_DOUBLE_EQ(timeout_of("2.25"), 2.25);
  EXPECT_DOUBLE_EQ(timeout_of("1e3"), 1000.0);
  EXPECT_DOUBLE_EQ(timeout_of("0.001"), 0.001);
}

TEST(ParseTimeoutTest, AcceptsTheMaximum) {
  EXPECT_DOUBLE_EQ(timeout_of("10000000"), kMaxTimeoutSeconds);
}

TEST(ParseTimeoutTest, RefusesZeroNegativeAndNonFinite) {
  for (const char* text : {"0", "0.0", "-0", "-1", "-0.5", "nan", "NaN", "-nan", "inf", "infinity", "-inf", "1e400"}) {
    const auto r = parse_timeout(text);
    EXPECT_FALSE(r.has_value()) << "'" << text << "' gave " << r.value_or(0);
  }
}

TEST(ParseTimeoutTest, RefusesAboveTheMaximum) {
  EXPECT_FALSE(parse_timeout("10000001").has_value());
  EXPECT_FALSE(parse_timeout("1e300").has_value());
}

TEST(ParseTimeoutTest, RefusesTextThatIsNotJustANumber) {
  for (const char* text : {"", "1s", "10 ", " 10", "+10", "ten", "1,5", "0x10", "1.5.2", "."}) {
    const auto r = parse_timeout(text);
    ASSERT_FALSE(r.has_value()) << "'" << text << "' gave " << r.value();
    EXPECT_NE(r.error().find(std::string("'") + text + "'"), std::string::npos) << r.error();
  }
}

}  // namespace
}  // namespace tilehv::cli
