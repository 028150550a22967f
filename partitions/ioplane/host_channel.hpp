// HostChannel: the host's end (CID 2) of the tile's channels: virtio-vsock stream connections
// (virtio 1.2 spec 5.10.6) between the tile daemon and its partitions, as a single-threaded state
// machine with no I/O of its own. The plane hands it every packet the channel router delivers to
// CID 2 (receive()) and takes the packets it must send (next_outgoing(), take_outgoing()); the daemon
// listens, accepts, connects, sends and reads through connection handles and learns what happened
// from take_events(). Time enters only through tick(), which the daemon calls at a fixed interval.
//
// Every partition is hostile. Each packet is checked (check_packet, destination, source) before it
// is looked at; a packet for no connection is answered with RST (spec 5.10.6.4), never a RST with
// one; a peer that breaks the protocol on a connection, or sends beyond the credit it was given, has
// that connection reset, and every kind of misbehaviour is counted. Everything a peer can make the
// host hold is bounded (HostChannelLimits): connections in total and per peer, connections waiting
// for accept(), listeners, the receive buffer (which is exactly the credit advertised), the send
// queue and the RSTs waiting to go out. Nothing grows with the number of packets received.
//
// Flow control: bytes from send() are queued (up to send_queue) and leave in RW packets of at most
// max_payload (never above 64 KiB) within the peer's credit, peer buf_alloc - (tx_cnt - peer
// fwd_cnt). A sender out of credit asks with CREDIT_REQUEST, and again at each tick() while stalled.
// The reader's freed space is announced with CREDIT_UPDATE once a quarter of the buffer was read,
// and whenever the peer asks.
//
// Shutdown (spec 5.10.6.5): SHUTDOWN flags are cumulative and leave after the bytes already queued;
// a peer that shuts down both directions is answered with RST, which ends the connection in order;
// after this side's full SHUTDOWN the peer's RST does. Without that RST within close_ticks ticks
// this side resets the connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <tuple>
#include <vector>

#include <tl/expected.hpp>

#include "ioplane/host_channel_connection.hpp"
#include "ioplane/host_channel_types.hpp"
#include "vsock/vsock_packet.hpp"

namespace tilehv::ioplane {

class HostChannel {
 public:
  [[nodiscard]] static tl::expected<HostChannel, HostChannelError> create(const HostChannelLimits& limits = {});

  // --- The plane's side -------------------------------------------------------------------------
  // Takes one packet the router delivered to CID 2 (whole: header and payload).
  void receive(std::span<const std::uint8_t> packet);
  // Whether next_outgoing() has a packet.
  [[nodiscard]] bool has_outgoing() const;
  // The next packet to send (src_cid 2, STREAM), or nullopt. Packets are built when taken, so each
  // carries the latest credit, and a caller that stops taking them (a full port) leaves the bytes in
  // the bounded queues rather than in a growing list.
  [[nodiscard]] std::optional<std::vector<std::uint8_t>> next_outgoing();
  // Every packet there is to send now.
  [[nodiscard]] std::vector<std::vector<std::uint8_t>> take_outgoing();
  // Does what needs time: withdraws connect()s unanswered for connect_ticks ticks, resets connections
  // whose full shutdown stayed unanswered for close_ticks ticks, and asks again for credit on stalled
  // connections (a CREDIT_UPDATE may have been dropped on a full port).
  void tick();

  // --- The daemon's side ------------------------------------------------------------------------
  // Takes REQUESTs for port from now on.
  [[nodiscard]] tl::expected<void, HostChannelError> listen(std::uint32_t port);
  // Takes no more REQUESTs for port; connections it took that were never accepted are reset.
  void unlisten(std::uint32_t port);
  // The oldest connection a listener (any, or the one on port) took that nobody accepted yet.
  [[nodiscard]] std::optional<ConnectionId> accept();
  [[nodiscard]] std::optional<ConnectionId> accept(std::uint32_t port);
  // Sends REQUEST to cid:port from a free local port; the answer arrives as kEventConnected or
  // kEventRefused.
  [[nodiscard]] tl::expected<ConnectionId, HostChannelError> connect(std::uint64_t cid, std::uint32_t port);
  // Queues as many bytes as the send queue has room for and returns how many (0: full; kEventWritable
  // follows once there is room). Allowed while connecting: the bytes leave once connected.
  [[nodiscard]] tl::expected<std::size_t, HostChannelError> send(ConnectionId id, std::span<const std::uint8_t> bytes);
  // Copies received bytes into out and returns how many; 0 if none are there yet. kEndOfStream or
  // kReset once everything was read and no more will come.
  [[nodiscard]] tl::expected<std::size_t, HostChannelError> read(ConnectionId id, std::span<std::uint8_t> out);
  // Ends this side's receiving and/or sending (kShutdownReceive, kShutdownSend). Unread bytes of a
  // receiving side that is shut down are dropped and their credit given back.
  [[nodiscard]] tl::expected<void, HostChannelError> shutdown(ConnectionId id, std::uint32_t flags);
  // Gives the handle back. A live connection still sends what was queued, then shuts down both
  // directions and ends with the peer's RST (or a reset after close_ticks); one still connecting is
  // withdrawn with RST. Unread bytes are dropped.
  [[nodiscard]] tl::expected<void, HostChannelError> close(ConnectionId id);
  // Gives the handle back and ends a live connection at once with RST; queued bytes are dropped.
  [[nodiscard]] tl::expected<void, HostChannelError> reset(ConnectionId id);

  [[nodiscard]] std::optional<ConnectionState> state(ConnectionId id) const;
  [[nodiscard]] std::optional<ConnectionInfo> info(ConnectionId id) const;
  // Connections with something new since the last call, each once with all its flags.
  [[nodiscard]] std::vector<HostChannelEvent> take_events();

  [[nodiscard]] const HostChannelCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const HostChannelLimits& limits() const noexcept { return limits_; }
  // Slots in use: connections of every kind, including closing ones and ones not yet accepted.
  [[nodiscard]] std::size_t connections() const;

 private:
  using Connection = HostChannelConnection;
  using Phase = Connection::Phase;
  using Op = vdevices::vsock::Op;
  using Header = vdevices::vsock::PacketHeader;
  // A flow (spec 5.10.6.2): the peer's address and the local port.
  using FlowKey = std::tuple<std::uint64_t, std::uint32_t, std::uint32_t>;

  explicit HostChannel(const HostChannelLimits& limits);

  // Table (host_channel.cpp).
  [[nodiscard]] Connection* lookup(ConnectionId id);
  [[nodiscard]] const Connection* lookup(ConnectionId id) const;
  [[nodiscard]] ConnectionId id_of(const Connection& c) const;
  [[nodiscard]] Connection* allocate(std::uint64_t peer_cid);
  [[nodiscard]] std::uint32_t pick_local_port();
  [[nodiscard]] static FlowKey flow_of(const Connection& c) { return {c.peer_cid, c.peer_port, c.local_port}; }
  void raise(Connection& c, std::uint32_t event);
  // Takes a connection out of the flow table and the slot back.
  void forget(Connection& c);

  // Receiving (host_channel_receive.cpp).
  void handle_request(const Header& h);
  void handle_flow(Connection& c, const Header& h, Op op, std::span<const std::uint8_t> payload);
  void handle_connecting(Connection& c, Op op);
  void handle_connected(Connection& c, const Header& h, Op op, std::span<const std::uint8_t> payload);
  void handle_closing(Connection& c, const Header& h, Op op);
  void handle_data(Connection& c, std::span<const std::uint8_t> payload);
  void handle_peer_shutdown(Connection& c, std::uint32_t flags);
  void violation(Violation v) { ++counters_.violations[static_cast<std::size_t>(v)]; }
  // Ends a live connection in phase, with event. A connection nobody holds a handle for (closing,
  // or reset before it was accepted) gives its slot back at once.
  void end(Connection& c, Phase phase, std::uint32_t event);
  // Ends a live connection from this side with RST.
  void reset_connection(Connection& c);
  // Answers a packet of no connection with RST (spec 5.10.6.4); never a RST.
  void answer_with_rst(const Header& h);
  void queue_rst(const Header& rst);
  // Marks a connection stalled (bytes queued, no credit) or not, and asks for credit when it stalls.
  static void update_stall(Connection& c);

  // Transmitting (host_channel_transmit.cpp).
  [[nodiscard]] std::optional<Op> next_op(const Connection& c) const;
  [[nodiscard]] std::vector<std::uint8_t> emit(Connection& c, Op op);
  [[nodiscard]] Header header_for(const Connection& c, Op op, std::uint32_t flags, std::uint32_t len) const;

  HostChannelLimits limits_;
  std::vector<Connection> slots_;
  std::map<FlowKey, std::uint32_t> flows_;  // live connections by flow, to their slot
  std::set<std::uint32_t> listeners_;
  std::deque<Header> resets_;  // RSTs to send, at most max_queued_resets
  std::size_t cursor_ = 0;     // where next_outgoing() looks first: connections take turns
  std::uint64_t arrivals_ = 0;
  std::uint32_t next_port_ = 0;
  HostChannelCounters counters_;
};

}  // namespace tilehv::ioplane
