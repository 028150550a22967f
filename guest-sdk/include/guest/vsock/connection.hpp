// vsock connection: one socket slot: its addresses, its place in the stream life cycle (virtio 1.2
// spec 5.10.6.4), the sending half of credit-based flow control (spec 5.10.6.3) and its receive buffer.
#pragma once

#include <cstdint>

#include <guest/vsock/packet.hpp>
#include <guest/vsock/receive_buffer.hpp>

namespace guest::vsock {

struct Connection {
  enum class State : uint8_t {
    free,
    listening,   // takes REQUESTs for local_port
    connecting,  // sent REQUEST, waits for RESPONSE (or RST: refused)
    connected,
    closing,  // close() sent SHUTDOWN for both directions and waits for the peer's RST
    closed,   // the peer is gone; unread bytes stay readable until close() frees the slot
  };
  static constexpr uint8_t kNoListener = 0xff;

  State state = State::free;
  uint32_t generation = 0;  // grows with every use of the slot, so stale handles miss
  uint32_t local_port = 0;
  uint64_t peer_cid = 0;
  uint32_t peer_port = 0;
  uint32_t peer_shutdown = 0;   // kShutdown* flags the peer sent
  uint32_t local_shutdown = 0;  // kShutdown* flags this side sent
  bool was_reset = false;       // closed by a reset, not by an orderly shutdown
  // A connection a listener took that accept() has not handed out yet, and its place in line.
  uint8_t listener = kNoListener;
  bool pending_accept = false;
  uint64_t arrival = 0;
  // The sending half of the credit: what the peer last said about its buffer, and what we sent.
  uint32_t peer_buf_alloc = 0;
  uint32_t peer_fwd_cnt = 0;
  uint32_t tx_cnt = 0;
  ReceiveBuffer received;

  // Takes the slot for a new socket: everything cleared, a new generation.
  void open(State new_state, uint32_t port, uint64_t cid, uint32_t remote_port) {
    state = new_state;
    ++generation;
    local_port = port;
    peer_cid = cid;
    peer_port = remote_port;
    peer_shutdown = local_shutdown = 0;
    was_reset = false;
    listener = kNoListener;
    pending_accept = false;
    arrival = 0;
    peer_buf_alloc = peer_fwd_cnt = tx_cnt = 0;
    received.reset();
  }
  void release() { state = State::free; }

  // Whether a packet belongs to this connection: the flow's address tuple (spec 5.10.6.2).
  [[nodiscard]] bool carries(const Header& h) const {
    const bool live = state == State::connecting || state == State::connected || state == State::closing;
    return live && h.dst_port == local_port && h.src_cid == peer_cid && h.src_port == peer_port;
  }

  // Every packet of a flow carries the sender's buf_alloc and fwd_cnt (spec 5.10.6.3).
  void note_peer_credit(const Header& h) {
    peer_buf_alloc = h.buf_alloc;
    peer_fwd_cnt = h.fwd_cnt;
  }
  // peer_free = peer_buf_alloc - (tx_cnt - peer_fwd_cnt), in wrapping 32-bit arithmetic as the
  // counters are. A peer claiming more consumed than was sent, or a shrunken buffer, gives no credit.
  [[nodiscard]] uint32_t peer_free() const {
    const uint32_t in_flight = tx_cnt - peer_fwd_cnt;
    return in_flight > peer_buf_alloc ? 0 : peer_buf_alloc - in_flight;
  }

  // A packet of this flow, with this side's credit filled in (received.advertised() once it is sent).
  [[nodiscard]] Header packet(uint64_t local_cid, Op op, uint32_t flags, uint32_t len) const {
    return Header{.src_cid = local_cid,
                  .dst_cid = peer_cid,
                  .src_port = local_port,
                  .dst_port = peer_port,
                  .len = len,
                  .type = kTypeStream,
                  .op = op,
                  .flags = flags,
                  .buf_alloc = ReceiveBuffer::kSize,
                  .fwd_cnt = received.fwd_cnt()};
  }
};

}  // namespace guest::vsock
