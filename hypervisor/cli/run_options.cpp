// Run options: what `tilehv run` was asked to do, parsed and checked.
#include "cli/run_options.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cctype>
#include <cstring>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "util/errno_text.hpp"

namespace tilehv::cli {

tl::expected<std::uint64_t, std::string> parse_memory_size(const std::string& text) {
  std::uint64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) {
    return tl::unexpected(fmt::format("memory size '{}' is not a number with an optional K, M, G or T suffix", text));
  }
  std::string suffix(ptr, end);
  for (auto& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  unsigned shift = 20;  // bare numbers are MiB
  if (suffix == "K" || suffix == "KIB") shift = 10;
  else if (suffix == "M" || suffix == "MIB" || suffix.empty()) shift = 20;
  else if (suffix == "G" || suffix == "GIB") shift = 30;
  else if (suffix == "T" || suffix == "TIB") shift = 40;
  else return tl::unexpected(fmt::format("memory size '{}' has an unknown suffix '{}' (use K, M, G or T)", text, std::string(ptr, end)));
  if (value > (UINT64_MAX >> shift)) {
    return tl::unexpected(fmt::format("memory size '{}' is too large", text));
  }
  return value << shift;
}

tl::expected<std::uint64_t, std::string> parse_console_limit(const std::string& text) {
  auto bytes = parse_memory_size(text);
  if (!bytes) return tl::unexpected("console limit: " + bytes.error());
  if (*bytes < kMinConsoleLimit || *bytes > kMaxConsoleLimit) {
    return tl::unexpected(fmt::format("console limit '{}' is outside 4K to 1G", text));
  }
  return *bytes;
}

tl::expected<ConsoleTarget, std::string> parse_console(const std::string& text) {
  if (text == "stdout") return ConsoleTarget{ConsoleTarget::Kind::kStdout, {}};
  constexpr std::string_view kFilePrefix = "file:";
  if (text.starts_with(kFilePrefix)) {
    std::string path = text.substr(kFilePrefix.size());
    if (path.empty()) return tl::unexpected(std::string("console 'file:' needs a path, e.g. file:/tmp/console.log"));
    return ConsoleTarget{ConsoleTarget::Kind::kFile, std::move(path)};
  }
  return tl::unexpected(fmt::format("console '{}' is not 'stdout' or 'file:PATH'", text));
}

tl::expected<double, std::string> parse_timeout(const std::string& text) {
  double seconds = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(seconds) || seconds <= 0 ||
      seconds > kMaxTimeoutSeconds) {
    return tl::unexpected(fmt::format("timeout '{}' must be a number of seconds greater than 0", text));
  }
  return seconds;
}

tl::expected<vmm::NetDeviceConfig, std::string> parse_net(const std::string& text) {
  vmm::NetDeviceConfig net;
  if (text.starts_with("port:")) {
    net.plane_port = text.substr(5);
    if (net.plane_port.empty()) return tl::unexpected(std::string("network 'port:' needs a port name, e.g. port:eth0"));
    return net;
  }
  if (!text.starts_with("tap:")) return tl::unexpected(fmt::format("network '{}' is not 'port:NAME' or 'tap:NAME[,mac=..][,mtu=..]'", text));
  std::string_view rest(text);
  rest.remove_prefix(4);
  bool first = true;
  while (!rest.empty() || first) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (first) {
      if (item.empty()) return tl::unexpected(std::string("network 'tap:' needs an interface name, e.g. tap:tap0"));
      net.tap = std::string(item);
      first = false;
    } else if (item.starts_with("mac=")) {
      net.mac = vdevices::MacAddress::parse(item.substr(4));
      if (!net.mac || net.mac->is_group()) return tl::unexpected(fmt::format("'{}' is not a unicast MAC address", item.substr(4)));
    } else if (item.starts_with("mtu=")) {
      unsigned mtu = 0;
      const auto value = item.substr(4);
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), mtu);
      if (ec != std::errc() || ptr != value.data() + value.size() || mtu < 68 || mtu > 65535) {
        return tl::unexpected(fmt::format("mtu '{}' must be a number from 68 to 65535", value));
      }
      net.mtu = static_cast<std::uint16_t>(mtu);
    } else {
      return tl::unexpected(fmt::format("unknown network option '{}' (mac=, mtu=)", item));
    }
  }
  return net;
}

tl::expected<util::UniqueFd, std::string> open_plane_link(const std::string& text) {
  if (text.starts_with("fd:")) {
    int fd = -1;
    const auto value = std::string_view(text).substr(3);
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), fd);
    if (ec != std::errc() || ptr != value.data() + value.size() || fd < 3) {
      return tl::unexpected(fmt::format("plane link '{}' does not name an inherited descriptor (fd:N, N >= 3)", text));
    }
    int type = 0;
    socklen_t length = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 || type != SOCK_SEQPACKET) {
      return tl::unexpected(fmt::format("descriptor {} is not a SOCK_SEQPACKET socket", fd));
    }
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return util::UniqueFd(fd);
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (text.empty() || text.size() >= sizeof address.sun_path) {
    return tl::unexpected(fmt::format("plane socket path '{}' is empty or too long", text));
  }
  std::memcpy(address.sun_path, text.data(), text.size());
  util::UniqueFd socket(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!socket) return tl::unexpected("socket: " + util::errno_text(errno));
  if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return tl::unexpected(fmt::format("cannot reach the I/O plane at {}: {}", text, util::errno_text(errno)));
  }
  return socket;
}

}  // namespace tilehv::cli
