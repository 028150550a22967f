// Command: what a guest may write to a sensor port, one line each (docs/sensors.md):
//   rate <channel> <millihertz>   set a channel's rate; <channel> is an index or a channel name
//   describe                      send the header and channel descriptors again
// Tokens are separated by spaces or tabs. The parser sees guest bytes and trusts none of them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include <tl/expected.hpp>

namespace tilehv::vdevices::sensors {

struct RateCommand {
  std::string channel;  // as written: an index ("0") or a name ("temperature"); the port resolves it
  std::uint64_t rate_mhz = 0;
};

struct DescribeCommand {};

using Command = std::variant<RateCommand, DescribeCommand>;

// Parses one line (without its newline). The error is a message for the guest's "#error" reply,
// free of control characters.
[[nodiscard]] tl::expected<Command, std::string> parse_command(std::string_view line);

}  // namespace tilehv::vdevices::sensors
