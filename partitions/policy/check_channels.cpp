// The channels check: both ends exist, they are two, and each server port is declared once.
#include <map>
#include <utility>

#include "policy/check_support.hpp"
#include "policy/checks.hpp"

namespace tilehv::policy::detail {
namespace {

constexpr std::string_view kCheck = "channels";
constexpr const char* kHost = "host";

void check_end(const Policy& policy, std::vector<Diagnostic>& findings, const std::string& path,
               const std::string& end) {
  if (end.empty() || malformed(policy, path) || end == kHost || policy.find(end) != nullptr) return;
  if (!partition_names_known(policy)) return;
  report(policy, findings, path, as_written(end), "the name of a partition, or \"host\"", kCheck);
}

}  // namespace

void check_channels(const Policy& policy, std::vector<Diagnostic>& findings) {
  std::map<std::pair<std::string, std::uint32_t>, std::size_t> ports;  // (server, port) -> channel
  for (std::size_t i = 0; i < policy.channels.size(); ++i) {
    const ChannelDecl& channel = policy.channels[i];
    const std::string path = channel_path(i);
    check_end(policy, findings, path + ".client", channel.client);
    check_end(policy, findings, path + ".server", channel.server);
    const bool ends_known = !malformed(policy, path + ".client") && !malformed(policy, path + ".server");
    if (ends_known && !channel.client.empty() && channel.client == channel.server) {
      report(policy, findings, path + ".server",
             fmt::format("{}, the client too", as_written(channel.server)),
             channel.server == kHost ? "a partition at one end at least" : "two different ends", kCheck);
    }
    if (malformed(policy, path + ".port")) continue;
    if (channel.port < 1 || channel.port > kMaxVsockPort) {
      report(policy, findings, path + ".port", fmt::format("{}", channel.port),
             fmt::format("a vsock port from 1 to {}", kMaxVsockPort), kCheck);
      continue;
    }
    if (!ends_known || channel.server.empty()) continue;
    const auto [first, inserted] = ports.emplace(std::make_pair(channel.server, channel.port), i);
    if (!inserted) {
      report(policy, findings, path + ".port",
             fmt::format("{}, which {} ({}) declares on {} too", channel.port, channel_path(first->second),
                         as_written(policy.channels[first->second].name), as_written(channel.server)),
             "a port of the server no other channel uses", kCheck);
    }
  }
}

}  // namespace tilehv::policy::detail
