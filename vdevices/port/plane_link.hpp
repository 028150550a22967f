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

// What a VMM sends on its link: a request for a port, or a port it already holds handed back to a
// plane that restarted (its descriptors travel with the message).
struct LinkMessage {
  enum class Op : std::uint8_t { kRequest, kReattach };
  Op op = Op::kRequest;
  PortRequest port;
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

// VMM side: hands a port it holds to a restarted plane, with the descriptors as the device side
// holds them, and waits up to `timeout` for the plane to confirm or refuse.
[[nodiscard]] tl::expected<void, std::string> reattach_port(int socket, const PortRequest& request, const PortFds& device_fds,
                                                            std::chrono::milliseconds timeout);

// Plane side.
[[nodiscard]] tl::expected<LinkMessage, std::string> parse_link_message(std::span<const std::uint8_t> message);
// A request for a new port only.
[[nodiscard]] tl::expected<PortRequest, std::string> parse_port_request(std::span<const std::uint8_t> message);
[[nodiscard]] tl::expected<void, std::string> confirm_reattach(int socket, const PortRequest& request);
[[nodiscard]] tl::expected<void, std::string> grant_port(int socket, const PortRequest& request, const PortFds& device_fds,
                                                         const std::map<std::string, std::string>& attributes);
[[nodiscard]] tl::expected<void, std::string> refuse_port(int socket, const PortRequest& request, std::string_view reason);

}  // namespace tilehv::vdevices::port
