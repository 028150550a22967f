// HostChannel connection: one slot of the host's connection table: its addresses, its place in the
// stream life cycle (virtio 1.2 spec 5.10.6.4, 5.10.6.5), both halves of credit-based flow control
// (spec 5.10.6.3), and the control packets it owes its peer.
#pragma once

#include <cstdint>

#include "ioplane/host_channel_bytes.hpp"
#include "ioplane/host_channel_types.hpp"

namespace tilehv::ioplane {

struct HostChannelConnection {
  enum class Phase : std::uint8_t {
    kFree,
    kConnecting,
    kConnected,
    kClosing,  // close() released it; it finishes sending, shuts down and waits for the peer's RST
    kRefused,  // ended; the daemon still holds the handle
    kClosed,
    kReset,
  };

  Phase phase = Phase::kFree;
  std::uint32_t generation = 0;  // grows with every use of the slot
  std::uint64_t peer_cid = 0;
  std::uint32_t peer_port = 0;
  std::uint32_t local_port = 0;
  std::uint32_t local_shutdown = 0;  // kShutdown* flags this side decided on
  std::uint32_t peer_shutdown = 0;   // kShutdown* flags the peer sent
  bool outgoing = false;             // opened by connect(): its local port is its own
  bool pending_accept = false;       // a listener took it; accept() has not handed it out yet
  std::uint64_t arrival = 0;         // order among pending accepts
  std::uint32_t age = 0;             // tick()s spent waiting for an answer (REQUEST, full SHUTDOWN)
  std::uint32_t events = 0;          // kEvent* flags not taken yet

  // Control packets owed to the peer; each is sent at most once however often it is asked for.
  bool request_due = false;
  bool response_due = false;
  bool shutdown_due = false;  // SHUTDOWN with local_shutdown, once the send queue is empty if it ends sending
  bool credit_update_due = false;
  bool credit_request_due = false;
  bool awaiting_rst = false;  // full SHUTDOWN sent: the peer's RST ends the connection (spec 5.10.6.5)
  bool stalled = false;       // bytes queued and no credit; a CREDIT_REQUEST went (or goes) out for it
  bool writer_blocked = false;  // send() found the queue full: kEventWritable once it drains

  // Receiving half: rx_cnt counts bytes received, fwd_cnt bytes consumed (read or discarded),
  // advertised_fwd_cnt the fwd_cnt the peer was last told. The peer's credit is
  // buf_alloc - (rx_cnt - advertised_fwd_cnt); all three wrap as the spec's counters do.
  HostChannelBytes received;
  std::uint32_t buf_alloc = 0;
  std::uint32_t rx_cnt = 0;
  std::uint32_t fwd_cnt = 0;
  std::uint32_t advertised_fwd_cnt = 0;

  // Sending half: what the peer last said about its buffer, and how many bytes we sent.
  HostChannelBytes queued;
  std::uint32_t peer_buf_alloc = 0;
  std::uint32_t peer_fwd_cnt = 0;
  std::uint32_t tx_cnt = 0;

  // Takes the free slot for a new connection: everything cleared, a new generation.
  void open(Phase new_phase, const HostChannelLimits& limits, std::uint64_t cid, std::uint32_t remote_port,
            std::uint32_t port);
  // Gives the slot back, with its buffers.
  void release();

  [[nodiscard]] bool live() const noexcept {
    return phase == Phase::kConnecting || phase == Phase::kConnected || phase == Phase::kClosing;
  }
  [[nodiscard]] bool in_use() const noexcept { return phase != Phase::kFree; }

  // peer_buf_alloc - (tx_cnt - peer_fwd_cnt): room the peer has for more bytes. A buffer that shrank
  // below what is in flight gives no credit rather than a huge one.
  [[nodiscard]] std::uint32_t peer_credit() const noexcept {
    const std::uint32_t in_flight = tx_cnt - peer_fwd_cnt;
    return in_flight > peer_buf_alloc ? 0 : peer_buf_alloc - in_flight;
  }
  // Takes the credit fields every packet of a flow carries (spec 5.10.6.3); false, and nothing taken,
  // if fwd_cnt moved backwards or past tx_cnt: packets of a flow arrive in order, so no honest peer
  // sends that.
  [[nodiscard]] bool note_peer_credit(std::uint32_t new_buf_alloc, std::uint32_t new_fwd_cnt) noexcept;

  // Whether an RW of len bytes stays within the credit the peer was given.
  [[nodiscard]] bool within_credit(std::uint32_t len) const noexcept {
    return len <= buf_alloc && rx_cnt - advertised_fwd_cnt <= buf_alloc - len;
  }
  // Records len more bytes consumed by the reader, and asks for a CREDIT_UPDATE once the peer's
  // view lags by a quarter of the buffer: less would cost a packet per read, and the peer still has
  // three quarters of the buffer minus what is unread meanwhile.
  void consumed(std::uint32_t len) noexcept;
};

}  // namespace tilehv::ioplane
