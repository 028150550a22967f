// vsock stream sockets: connect, listen/accept, send, receive, shutdown and close over one
// Transport (a virtio-vsock device), for kMaxSockets sockets, in static storage.
//
// The protocol is virtio 1.2 spec 5.10.6: REQUEST is answered by RESPONSE (connected) or RST
// (refused); data travels in RW packets, never more than the peer's credit (peer_buf_alloc -
// (tx_cnt - peer_fwd_cnt)) in flight; each socket receives into a 64 KiB buffer, advertised as
// buf_alloc, and announces freed space with CREDIT_UPDATE once a quarter of it was read (and
// whenever asked with CREDIT_REQUEST). A sender that stays out of credit asks with CREDIT_REQUEST. SHUTDOWN
// ends one or both directions; the side that learns both are done answers RST, which ends the
// connection; close() sends RST itself if that answer does not come in time.
//
// Every received header is checked before it is used: framing (by the transport), destination CID,
// source CID, type, op, payload length, and credit. A packet for no connection is answered with RST,
// unless it is one; a packet that breaks the protocol on a connection resets it. Nothing a peer
// sends can make the sockets write outside their buffers or wait forever.
//
// Single-threaded: one CPU drives a Sockets at a time. Packets are handled when the kernel calls
// poll() or a blocking call, which polls while it waits. Replies that find the transmit queue full
// wait in a small queue of their own, so received packets keep being handled meanwhile (spec
// 5.10.6.1: the rx queue must be processed even when tx is full, while such room lasts).
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/time.hpp>
#include <guest/vsock/connection.hpp>
#include <guest/vsock/error.hpp>
#include <guest/vsock/packet.hpp>
#include <guest/vsock/transport.hpp>

namespace guest::vsock {

// A socket: a slot and the generation it had when handed out, so a handle of a closed socket never
// reaches the slot's next use.
struct SocketId {
  uint8_t slot = 0xff;
  uint32_t generation = 0;
};

struct SocketsCounters {
  uint64_t packets = 0;             // taken from the transport
  uint64_t not_for_us = 0;          // another destination CID, or a reserved source CID: dropped
  uint64_t malformed = 0;           // wrong type, unknown op, payload on a control op: RST
  uint64_t unknown_connection = 0;  // for no connection or listener: answered with RST unless a RST
  uint64_t refused_requests = 0;    // a REQUEST a listener could not take (no free slot): RST
  uint64_t protocol_errors = 0;     // an op that makes no sense in the connection's state: reset
  uint64_t credit_violations = 0;   // RW beyond the space this side advertised: reset
  uint64_t resets_received = 0;
  uint64_t resets_sent = 0;
  uint64_t replies_dropped = 0;  // a reply found no room in tx nor in the reply queue
  uint64_t transport_resets = 0;
};

class Sockets {
 public:
  static constexpr size_t kMaxSockets = 8;  // listeners included
  static constexpr size_t kMaxQueuedReplies = 32;
  // A sender without credit asks with CREDIT_REQUEST once the stall lasted kCreditStallNs, then
  // every kCreditRequestIntervalNs. Not at once: a receiver that reads sends CREDIT_UPDATE by
  // itself, and asking at every stall of a bulk transfer would double the control packets.
  static constexpr uint64_t kCreditStallNs = 10'000'000;
  static constexpr uint64_t kCreditRequestIntervalNs = 100'000'000;

  explicit Sockets(Transport& transport);
  Sockets(const Sockets&) = delete;
  Sockets& operator=(const Sockets&) = delete;

  // Connects to cid:port from a free local port: none once RESPONSE came, refused on RST, timed_out
  // at the deadline (the request is then withdrawn with RST).
  Error connect(uint64_t cid, uint32_t port, const time::Deadline& deadline, SocketId& out);
  // Takes REQUESTs for port from now on; each is answered at once while a slot is free and waits
  // for accept().
  Error listen(uint32_t port, SocketId& out);
  // The oldest connection the listener took and nobody accepted yet; waits for one until deadline.
  Error accept(SocketId listener, const time::Deadline& deadline, SocketId& out);

  // Sends all size bytes, in packets of at most the transport's payload, each within the peer's
  // credit, waiting for credit (asking with CREDIT_REQUEST when a stall lasts) and transmit room. Returns none
  // when all went out; otherwise the error, with *sent (if given) telling how many bytes did.
  Error send(SocketId socket, const void* data, size_t size, const time::Deadline& deadline, size_t* sent = nullptr);
  // Copies up to capacity received bytes (at least one) to buffer; waits for some until deadline.
  // end_of_stream once the peer sends no more and all was read; reset after a reset, once the bytes
  // that came before it were read.
  Error receive(SocketId socket, void* buffer, size_t capacity, const time::Deadline& deadline, size_t& received);
  // Ends this side's receiving and/or sending (kShutdownReceive, kShutdownSend) with SHUTDOWN.
  Error shutdown(SocketId socket, uint32_t flags);
  // Closes a socket and frees its slot in every case. A connection is shut down in both directions
  // and closed once the peer answers RST; at the deadline it is reset (RST) instead and timed_out is
  // returned. Closing a listener resets the connections it took that were never accepted.
  Error close(SocketId socket, const time::Deadline& deadline);

  // Handles every packet and event waiting on the transport (while replies have room).
  void poll();
  // What poll() does with each received packet; tests feed packets through it without a device.
  void handle_packet(const Header& header, const uint8_t* payload);
  // Waits until every queued reply and packet has gone to the device: before a kernel exits.
  bool flush(const time::Deadline& deadline);

  [[nodiscard]] Error peer(SocketId socket, uint64_t& cid, uint32_t& port) const;
  [[nodiscard]] uint32_t local_port(SocketId socket) const;
  // Received bytes waiting to be read.
  [[nodiscard]] size_t readable(SocketId socket) const;
  // Slots in use: listeners, connections (accepted or not) and closed ones nobody closed yet.
  [[nodiscard]] size_t open_sockets() const;
  [[nodiscard]] uint64_t local_cid() const { return transport_.local_cid(); }
  [[nodiscard]] const SocketsCounters& counters() const { return counters_; }

 private:
  using State = Connection::State;

  Connection* lookup(SocketId id);
  const Connection* lookup(SocketId id) const;
  SocketId id_of(const Connection& c) const;
  Connection* allocate();
  Connection* find_flow(const Header& h);
  Connection* find_listener(uint32_t port);
  bool port_taken(uint32_t port) const;
  uint32_t pick_local_port();

  // Receiving (sockets_receive.cpp).
  void handle_flow(Connection& c, const Header& h, const uint8_t* payload);
  void handle_connected(Connection& c, const Header& h, const uint8_t* payload);
  void handle_request(Connection& listener, const Header& h);
  void handle_transport_reset();
  // Ends a connection with RST (unless it answers one) and counts why.
  void reset_connection(Connection& c, uint64_t& counter, bool send_rst = true);
  // Answers a packet that belongs to no connection with RST (spec 5.10.6.4), never a RST with one.
  void answer_with_rst(const Header& h);

  // Transmitting.
  // Sends a packet after any queued replies, so a flow's packets leave in order; busy if they cannot.
  SendResult transmit(const Header& h, const void* payload);
  // A reply or control packet: sent now, else queued; false (dropped, counted) when the queue is full.
  bool send_control(const Header& h);
  void control(Connection& c, Op op, uint32_t flags = 0);
  void flush_replies();
  // Sleeps until the transport has something (or room for queued replies) or the deadline.
  void wait(const time::Deadline& deadline, bool for_send);

  Transport& transport_;
  Connection connections_[kMaxSockets];
  Header replies_[kMaxQueuedReplies] = {};
  size_t replies_head_ = 0;
  size_t replies_count_ = 0;
  SocketsCounters counters_;
  uint32_t next_port_ = 0;
  uint64_t arrivals_ = 0;
  uint8_t payload_[kMaxPayload] = {};
};

}  // namespace guest::vsock
