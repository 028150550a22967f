// The plane link: how a VMM obtains its ports from the tile's I/O plane. One SOCK_SEQPACKET
// connection per VMM; the VMM asks for each port by kind and name, the plane answers with the port's
// descriptors and attributes (for a network port: the MAC address the switch will enforce), or
// refuses with a reason. Text messages, one per datagram (docs/ports.md).
#pragma once

#include <chrono>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "port/port_endpoint.hpp"

namespace tilehv::vdevices::port {

inline constexpr std::uint32_t kPlaneLinkVersion = 1;
inline constexpr std::size_t kMaxLinkMessage = 1024;

struct PortRequest {
  std::string kind;  // net | console | vsock | sensor
  std::string name;  // [A-Za-z0-9._-]{1,64}
};

struct PortGrant {
  PortFds fds;
  std::map<std::string, std::string> attributes;
};

// Kinds and names are restricted to what needs no quoting in the text protocol.
[[nodiscard]] bool valid_port_token(std::string_view token);

// VMM side: asks for a port and waits up to `timeout` for the answer.
[[nodiscard]] tl::expected<PortGrant, std::string> request_port(int socket, const PortRequest& request,
                                                                std::chrono::milliseconds timeout);

// Plane side.
[[nodiscard]] tl::expected<PortRequest, std::string> parse_port_request(std::span<const std::uint8_t> message);
[[nodiscard]] tl::expected<void, std::string> grant_port(int socket, const PortRequest& request, const PortFds& device_fds,
                                                         const std::map<std::string, std::string>& attributes);
[[nodiscard]] tl::expected<void, std::string> refuse_port(int socket, const PortRequest& request, std::string_view reason);

}  // namespace tilehv::vdevices::port
