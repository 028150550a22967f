// HostChannel connection: opening and releasing a slot, and the arithmetic of credit.
#include "ioplane/host_channel_connection.hpp"

#include <algorithm>

namespace tilehv::ioplane {

void HostChannelConnection::open(Phase new_phase, const HostChannelLimits& limits, std::uint64_t cid,
                                 std::uint32_t remote_port, std::uint32_t port) {
  const std::uint32_t next_generation = generation + 1 == 0 ? 1 : generation + 1;
  *this = HostChannelConnection{};
  generation = next_generation;
  phase = new_phase;
  peer_cid = cid;
  peer_port = remote_port;
  local_port = port;
  buf_alloc = limits.receive_buffer;
  received = HostChannelBytes(limits.receive_buffer);
  queued = HostChannelBytes(limits.send_queue);
}

void HostChannelConnection::release() {
  phase = Phase::kFree;
  outgoing = pending_accept = false;
  events = 0;
  request_due = response_due = shutdown_due = credit_update_due = credit_request_due = false;
  awaiting_rst = stalled = writer_blocked = false;
  received.clear();
  queued.clear();
}

bool HostChannelConnection::note_peer_credit(std::uint32_t new_buf_alloc, std::uint32_t new_fwd_cnt) noexcept {
  // Wrapping distances from the last fwd_cnt: the new one must lie within what was sent since.
  if (new_fwd_cnt - peer_fwd_cnt > tx_cnt - peer_fwd_cnt) return false;
  peer_buf_alloc = new_buf_alloc;
  peer_fwd_cnt = new_fwd_cnt;
  return true;
}

void HostChannelConnection::consumed(std::uint32_t len) noexcept {
  fwd_cnt += len;
  if (fwd_cnt - advertised_fwd_cnt >= std::max<std::uint32_t>(1, buf_alloc / 4)) credit_update_due = true;
}

}  // namespace tilehv::ioplane
