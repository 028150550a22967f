// Command: parsing of the lines a guest writes to a sensor port.
#include "sensors/command.hpp"

#include <vector>

#include <fmt/format.h>

#include "sensors/decimal.hpp"
#include "sensors/quote.hpp"

namespace tilehv::vdevices::sensors {
namespace {

// No command has more than three tokens; counting stops at four, so a line of many tokens costs no more.
constexpr std::size_t kMaxTokens = 4;

std::vector<std::string_view> tokens_of(std::string_view line) {
  std::vector<std::string_view> tokens;
  std::size_t pos = 0;
  while (tokens.size() < kMaxTokens) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    if (pos == line.size()) break;
    const std::size_t start = pos;
    while (pos < line.size() && line[pos] != ' ' && line[pos] != '\t') ++pos;
    tokens.push_back(line.substr(start, pos - start));
  }
  return tokens;
}

}  // namespace

tl::expected<Command, std::string> parse_command(std::string_view line) {
  for (const char c : line) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && byte != '\t') || byte > 0x7e) {
      return tl::unexpected(fmt::format("command holds the byte 0x{:02x}; commands are printable ASCII", byte));
    }
  }
  const std::vector<std::string_view> t = tokens_of(line);
  if (t.empty()) return tl::unexpected(std::string("empty command; expected rate or describe"));
  if (t[0] == "describe") {
    if (t.size() != 1) return tl::unexpected(std::string("describe takes no arguments"));
    return DescribeCommand{};
  }
  if (t[0] == "rate") {
    if (t.size() != 3) return tl::unexpected(std::string("expected: rate <channel> <millihertz>"));
    const auto rate = parse_u64(t[2]);
    if (!rate) {
      return tl::unexpected(fmt::format("expected a rate in millihertz (an unsigned integer), found {}", quote(t[2])));
    }
    return RateCommand{std::string(t[1]), *rate};
  }
  return tl::unexpected(fmt::format("unknown command {}; expected rate or describe", quote(t[0])));
}

}  // namespace tilehv::vdevices::sensors
