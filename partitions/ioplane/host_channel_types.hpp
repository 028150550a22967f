// HostChannel types: connection handles and states, errors, events, limits and counters of the host's
// side of the tile's channels (host_channel.hpp).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "vsock/vsock_packet.hpp"

namespace tilehv::ioplane {

// SHUTDOWN flags (virtio 1.2 spec 5.10.6.5): this side will receive no more, send no more.
inline constexpr std::uint32_t kShutdownReceive = 1;
inline constexpr std::uint32_t kShutdownSend = 2;
inline constexpr std::uint32_t kShutdownBoth = kShutdownReceive | kShutdownSend;
// VMADDR_CID_ANY and VMADDR_PORT_ANY: wildcards of the socket API, never the address of a peer.
inline constexpr std::uint64_t kCidAny = 0xffff'ffff;
inline constexpr std::uint32_t kPortAny = 0xffff'ffff;

// A connection: its slot and the generation the slot had when the connection took it, so the handle
// of a closed connection never reaches the slot's next use. Generation 0 is never handed out.
struct ConnectionId {
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  friend auto operator<=>(const ConnectionId&, const ConnectionId&) = default;
};

enum class ConnectionState : std::uint8_t {
  kConnecting,  // REQUEST sent, waiting for RESPONSE or RST
  kConnected,
  kRefused,  // the peer answered our REQUEST with RST, or did not answer in time
  kClosed,   // ended in order (both sides shut down); unread bytes stay readable
  kReset,    // ended by a reset, from the peer or from this side; unread bytes stay readable
};
[[nodiscard]] std::string_view state_name(ConnectionState state);

enum class HostChannelError : std::uint8_t {
  kBadLimits,           // create(): a limit out of range
  kBadAddress,          // connect(): a reserved CID or port
  kPortInUse,           // listen(): already listening, or a connection uses the port
  kTooManyListeners,    // listen(): max_listeners reached
  kNoFreeConnection,    // connect(): max_connections (or the per-peer share) reached
  kBadConnection,       // no such connection (closed, never existed, or not accepted yet)
  kNotConnected,        // the connection is still connecting
  kShutDown,            // send() after shutdown(kShutdownSend), or the peer receives no more
  kEndOfStream,         // read(): everything was read and the peer sends no more
  kRefused,             // the connection was refused
  kReset,               // the connection was reset (and, for read(), everything was read)
};
[[nodiscard]] std::string_view error_name(HostChannelError error);

// What happened to a connection since the events were last taken; flags accumulate.
inline constexpr std::uint32_t kEventIncoming = 1U << 0;  // a listener took it: accept() hands it out
inline constexpr std::uint32_t kEventConnected = 1U << 1;
inline constexpr std::uint32_t kEventRefused = 1U << 2;
inline constexpr std::uint32_t kEventReadable = 1U << 3;
inline constexpr std::uint32_t kEventPeerShutdown = 1U << 4;  // the peer sent SHUTDOWN with new flags
inline constexpr std::uint32_t kEventClosed = 1U << 5;
inline constexpr std::uint32_t kEventReset = 1U << 6;
inline constexpr std::uint32_t kEventWritable = 1U << 7;  // room in the send queue again after it was full

struct HostChannelEvent {
  ConnectionId id;
  std::uint32_t flags = 0;
};

// Every resource a peer can make the host spend is bounded by one of these.
struct HostChannelLimits {
  std::size_t max_connections = 64;  // connecting, connected, closing, ended but not closed, not yet accepted
  std::size_t max_connections_per_peer = 16;  // so one partition cannot take every slot from the others
  std::size_t max_listeners = 16;
  std::size_t max_pending_accepts = 8;  // per listener: taken by the protocol, not yet by accept()
  std::uint32_t receive_buffer = 64 * 1024;  // per connection, advertised as buf_alloc
  std::size_t send_queue = 256 * 1024;       // per connection: bytes accepted by send(), not yet sent
  std::uint32_t max_payload = vdevices::vsock::kMaxPayload;  // per RW packet, at most 64 KiB
  std::size_t max_queued_resets = 256;  // RSTs waiting for take_outgoing(); beyond, dropped and counted
  std::uint32_t connect_ticks = 5;      // tick()s a REQUEST may wait for its answer
  std::uint32_t close_ticks = 2;        // tick()s a full shutdown may wait for the peer's RST
  std::uint32_t first_local_port = 1024;  // where connect() starts picking local ports
};

// Kinds of peer misbehaviour, each counted.
enum class Violation : std::uint8_t {
  kMalformed,          // check_packet refused it: ignored
  kWrongDestination,   // not addressed to the host: ignored
  kBadSource,          // a reserved source CID or port, or the host's own: ignored
  kUnexpectedOp,       // an operation the connection's state does not allow: reset
  kCreditOverrun,      // RW beyond the credit this side gave: reset
  kBadCreditFields,    // fwd_cnt moving backwards or past what was sent: fields ignored
  kDataAfterShutdown,  // RW after the peer's own SHUTDOWN of sending: reset
  kCount
};
[[nodiscard]] std::string_view violation_name(Violation violation);

struct HostChannelCounters {
  std::uint64_t packets_in = 0, packets_out = 0;
  std::uint64_t bytes_in = 0, bytes_out = 0;  // RW payload taken in, sent
  std::uint64_t connections_accepted = 0;     // REQUESTs answered with RESPONSE
  std::uint64_t connections_established = 0;  // connect()s answered with RESPONSE
  std::uint64_t requests_refused = 0;         // REQUESTs answered with RST: no listener, backlog or table full
  std::uint64_t connects_refused = 0;         // connect()s answered with RST
  std::uint64_t connects_timed_out = 0;       // connect()s without an answer for connect_ticks
  std::uint64_t resets_by_peer = 0;           // live connections the peer reset
  std::uint64_t resets_by_host = 0;           // live connections this side reset (violations, timeouts, reset())
  std::uint64_t unknown_flow = 0;             // packets for no connection: answered with RST unless a RST
  std::uint64_t resets_dropped = 0;           // RSTs that found max_queued_resets waiting
  std::array<std::uint64_t, static_cast<std::size_t>(Violation::kCount)> violations{};
  [[nodiscard]] std::uint64_t violation(Violation v) const { return violations[static_cast<std::size_t>(v)]; }
};

// What the daemon may want to know about one connection.
struct ConnectionInfo {
  ConnectionState state = ConnectionState::kConnecting;
  std::uint64_t peer_cid = 0;
  std::uint32_t peer_port = 0;
  std::uint32_t local_port = 0;
  std::uint32_t local_shutdown = 0;  // kShutdown* flags this side sent or will send
  std::uint32_t peer_shutdown = 0;   // kShutdown* flags the peer sent
  std::size_t readable = 0;          // received bytes not read yet
  std::size_t queued = 0;            // bytes accepted by send() not sent yet
  std::uint32_t peer_credit = 0;     // bytes the peer has room for now
  bool pending_accept = false;
};

}  // namespace tilehv::ioplane
