// Run options: what `tilehv run` was asked to do, parsed and checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "util/unique_fd.hpp"
#include "vmm/vmm.hpp"

namespace tilehv::cli {

struct ConsoleTarget {
  enum class Kind { kStdout, kFile };
  Kind kind = Kind::kStdout;
  std::string path;
};

// A console file stops growing at its limit: a guest that floods its console fills at most this much
// disk. The default, and the range `--console-limit` accepts.
inline constexpr std::uint64_t kConsoleFileLimit = 64ULL * 1024 * 1024;
inline constexpr std::uint64_t kMinConsoleLimit = 4096;
inline constexpr std::uint64_t kMaxConsoleLimit = 1ULL << 30;
inline constexpr double kMaxTimeoutSeconds = 1e7;

// "64M", "64MiB", "1G", "512K", "2T"; a bare number is MiB, as in QEMU's -m.
[[nodiscard]] tl::expected<std::uint64_t, std::string> parse_memory_size(const std::string& text);
// A console file's limit: a size as for memory ("256K", "1M"), 4 KiB to 1 GiB.
[[nodiscard]] tl::expected<std::uint64_t, std::string> parse_console_limit(const std::string& text);
// "stdout" or "file:PATH".
[[nodiscard]] tl::expected<ConsoleTarget, std::string> parse_console(const std::string& text);
// Seconds, fractions allowed, greater than zero.
[[nodiscard]] tl::expected<double, std::string> parse_timeout(const std::string& text);

// "port:NAME" (a port of the tile's switch, from the I/O plane) or "tap:NAME[,mac=MAC][,mtu=N]".
[[nodiscard]] tl::expected<vmm::NetDeviceConfig, std::string> parse_net(const std::string& text);
// The plane link: "PATH" of the I/O plane's unix socket, or "fd:N" for a socket inherited from the
// tile daemon. Returns the connected socket.
[[nodiscard]] tl::expected<util::UniqueFd, std::string> open_plane_link(const std::string& text);

}  // namespace tilehv::cli
