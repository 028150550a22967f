// The plane link: how a VMM obtains its ports from the tile's I/O plane.
#include "port/plane_link.hpp"

#include <poll.h>

#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "port/fd_passing.hpp"
#include "util/errno_text.hpp"

namespace tilehv::vdevices::port {
namespace {

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) words.push_back(std::move(w));
  return words;
}

std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

bool valid_port_token(std::string_view token) {
  if (token.empty() || token.size() > 64) return false;
  for (char c : token) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == '-' || c == ':';
    if (!ok) return false;
  }
  return true;
}

namespace {

// Waits for the plane's answer about `request`: words[0] is `expected_verb`, or the refusal is
// returned as the error.
tl::expected<ReceivedMessage, std::string> await_answer(int socket, const PortRequest& request, std::string_view expected_verb,
                                                        std::chrono::milliseconds timeout, std::vector<std::string>& words) {
  pollfd pfd{socket, POLLIN, 0};
  const int ready = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready < 0) return tl::unexpected("poll on the plane link: " + util::errno_text(errno));
  if (ready == 0) return tl::unexpected(fmt::format("the I/O plane did not answer for port {} within {} ms", request.name, timeout.count()));
  auto reply = receive_message(socket, kMaxLinkMessage);
  if (!reply) return tl::unexpected("plane link: " + reply.error());
  if (reply->bytes.empty()) return tl::unexpected(std::string("the I/O plane closed the link"));
  words = split_words(std::string_view(reinterpret_cast<const char*>(reply->bytes.data()), reply->bytes.size()));
  if (words.size() >= 3 && words[0] == "refused" && words[1] == request.kind && words[2] == request.name) {
    std::string reason;
    for (std::size_t i = 3; i < words.size(); ++i) reason += (i > 3 ? " " : "") + words[i];
    return tl::unexpected(fmt::format("the I/O plane refused {} port {}: {}", request.kind, request.name, reason));
  }
  if (words.size() < 3 || words[0] != expected_verb || words[1] != request.kind || words[2] != request.name) {
    return tl::unexpected(fmt::format("unexpected answer from the I/O plane for port {}", request.name));
  }
  return reply;
}

tl::expected<void, std::string> check_tokens(const PortRequest& request) {
  if (!valid_port_token(request.kind) || !valid_port_token(request.name)) {
    return tl::unexpected(fmt::format("port kind '{}' or name '{}' has characters outside [A-Za-z0-9._:-]", request.kind, request.name));
  }
  return {};
}

}  // namespace

tl::expected<PortGrant, std::string> request_port(int socket, const PortRequest& request, std::chrono::milliseconds timeout) {
  if (auto ok = check_tokens(request); !ok) return tl::unexpected(ok.error());
  const std::string ask = fmt::format("tilehv-port {} {} {}", kPlaneLinkVersion, request.kind, request.name);
  if (auto sent = send_message(socket, as_bytes(ask)); !sent) return tl::unexpected(sent.error());
  std::vector<std::string> words;
  auto reply = await_answer(socket, request, "granted", timeout, words);
  if (!reply) return tl::unexpected(reply.error());
  if (reply->fds.size() != 3) {
    return tl::unexpected(fmt::format("the I/O plane granted port {} with {} descriptors instead of 3", request.name, reply->fds.size()));
  }
  PortGrant grant;
  grant.fds = PortFds{std::move(reply->fds[0]), std::move(reply->fds[1]), std::move(reply->fds[2])};
  for (std::size_t i = 3; i < words.size(); ++i) {
    const auto eq = words[i].find('=');
    if (eq == std::string::npos || eq == 0) return tl::unexpected(fmt::format("malformed port attribute '{}'", words[i]));
    grant.attributes[words[i].substr(0, eq)] = words[i].substr(eq + 1);
  }
  return grant;
}

tl::expected<void, std::string> reattach_port(int socket, const PortRequest& request, const PortFds& device_fds,
                                              std::chrono::milliseconds timeout) {
  if (auto ok = check_tokens(request); !ok) return tl::unexpected(ok.error());
  const std::string ask = fmt::format("tilehv-reattach {} {} {}", kPlaneLinkVersion, request.kind, request.name);
  const int fds[3] = {device_fds.memory.get(), device_fds.own_wake.get(), device_fds.peer_wake.get()};
  if (auto sent = send_message(socket, as_bytes(ask), fds); !sent) return tl::unexpected(sent.error());
  std::vector<std::string> words;
  auto reply = await_answer(socket, request, "reattached", timeout, words);
  if (!reply) return tl::unexpected(reply.error());
  return {};
}

tl::expected<LinkMessage, std::string> parse_link_message(std::span<const std::uint8_t> message) {
  const auto words = split_words(std::string_view(reinterpret_cast<const char*>(message.data()), message.size()));
  if (words.size() != 4 || (words[0] != "tilehv-port" && words[0] != "tilehv-reattach")) {
    return tl::unexpected(std::string("expected 'tilehv-port VERSION KIND NAME' or 'tilehv-reattach VERSION KIND NAME'"));
  }
  if (words[1] != std::to_string(kPlaneLinkVersion)) {
    return tl::unexpected(fmt::format("plane link version {} is not supported ({})", words[1], kPlaneLinkVersion));
  }
  if (!valid_port_token(words[2]) || !valid_port_token(words[3])) {
    return tl::unexpected(std::string("port kind or name has characters outside [A-Za-z0-9._:-] or is too long"));
  }
  return LinkMessage{words[0] == "tilehv-port" ? LinkMessage::Op::kRequest : LinkMessage::Op::kReattach, {words[2], words[3]}};
}

tl::expected<PortRequest, std::string> parse_port_request(std::span<const std::uint8_t> message) {
  auto parsed = parse_link_message(message);
  if (!parsed) return tl::unexpected(parsed.error());
  if (parsed->op != LinkMessage::Op::kRequest) return tl::unexpected(std::string("expected 'tilehv-port VERSION KIND NAME'"));
  return parsed->port;
}

tl::expected<void, std::string> grant_port(int socket, const PortRequest& request, const PortFds& device_fds,
                                           const std::map<std::string, std::string>& attributes) {
  std::string text = fmt::format("granted {} {}", request.kind, request.name);
  for (const auto& [key, value] : attributes) text += fmt::format(" {}={}", key, value);
  const int fds[3] = {device_fds.memory.get(), device_fds.own_wake.get(), device_fds.peer_wake.get()};
  return send_message(socket, as_bytes(text), fds);
}

tl::expected<void, std::string> confirm_reattach(int socket, const PortRequest& request) {
  return send_message(socket, as_bytes(fmt::format("reattached {} {}", request.kind, request.name)));
}

tl::expected<void, std::string> refuse_port(int socket, const PortRequest& request, std::string_view reason) {
  return send_message(socket, as_bytes(fmt::format("refused {} {} {}", request.kind, request.name, reason)));
}

}  // namespace tilehv::vdevices::port
