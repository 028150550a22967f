// ChannelRouter: the tile's channels between partitions (the routing decision only; IoPlane moves
// the packets). A channel is declared as (client partition, server partition, server port): the
// client may connect to that port of the server, and the two may then exchange packets of that
// connection. Anything else is refused with a reset, as a host refuses a connection to a closed
// port, and counted. A partition can only speak as its own CID.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "vsock/vsock_packet.hpp"

namespace tilehv::ioplane {

struct ChannelDeclaration {
  std::string client;  // the client's vsock port name
  std::string server;  // the server's vsock port name
  std::uint32_t server_port = 0;
};

using EndpointId = std::uint32_t;

struct EndpointCounters {
  std::uint64_t packets_in = 0;   // from this partition
  std::uint64_t packets_out = 0;  // delivered to it
  std::uint64_t refused = 0;      // no declared channel: answered with a reset
  std::uint64_t no_destination = 0;  // no partition with that CID: answered with a reset
  std::uint64_t spoofed = 0;      // a source CID that is not its own: dropped
  std::uint64_t malformed = 0;    // dropped
  std::uint64_t no_room = 0;      // the destination's ring was full: dropped
};

struct RouteDecision {
  enum class Kind { kDeliver, kReset, kDrop } kind = Kind::kDrop;
  EndpointId to = 0;
};

class ChannelRouter {
 public:
  explicit ChannelRouter(std::vector<ChannelDeclaration> channels = {}) : channels_(std::move(channels)) {}

  // nullopt if the name or CID is taken, or the CID is reserved (0-2).
  [[nodiscard]] std::optional<EndpointId> add_endpoint(const std::string& name, std::uint64_t cid);
  // The tile itself, CID 2, named kHostName in channel declarations.
  static constexpr const char* kHostName = "host";
  [[nodiscard]] std::optional<EndpointId> add_host_endpoint();
  void remove_endpoint(EndpointId endpoint);
  void set_channels(std::vector<ChannelDeclaration> channels) { channels_ = std::move(channels); }

  // Where a packet from `from` goes. The packet is whole (header and payload).
  [[nodiscard]] RouteDecision route(EndpointId from, std::span<const std::uint8_t> packet);
  void delivered(EndpointId to);
  void no_room(EndpointId to);

  [[nodiscard]] const EndpointCounters* counters(EndpointId endpoint) const;
  [[nodiscard]] std::optional<EndpointId> find(const std::string& name) const;

 private:
  struct Endpoint {
    std::string name;
    std::uint64_t cid = 0;
    EndpointCounters counters;
    bool present = false;
  };
  [[nodiscard]] bool declared(const Endpoint& from, const Endpoint& to, const vdevices::vsock::PacketHeader& h) const;

  std::vector<ChannelDeclaration> channels_;
  std::vector<Endpoint> endpoints_;
  std::unordered_map<std::uint64_t, EndpointId> by_cid_;
};

}  // namespace tilehv::ioplane
