// HostChannel: the transmit side: packets are built when the caller takes them, RSTs first, then the
// connections in turn, each with the packet it owes most (virtio 1.2 spec 5.10.6.3 to 5.10.6.5).
#include <algorithm>
#include <cstring>

#include "ioplane/host_channel.hpp"

namespace tilehv::ioplane {

namespace vsock = vdevices::vsock;

namespace {

std::vector<std::uint8_t> serialize(const vsock::PacketHeader& h) {
  std::vector<std::uint8_t> packet(vsock::kHeaderBytes + h.len);
  std::memcpy(packet.data(), &h, sizeof h);
  return packet;
}

}  // namespace

vsock::PacketHeader HostChannel::header_for(const Connection& c, Op op, std::uint32_t flags,
                                            std::uint32_t len) const {
  return Header{.src_cid = vsock::kHostCid,
                .dst_cid = c.peer_cid,
                .src_port = c.local_port,
                .dst_port = c.peer_port,
                .len = len,
                .type = vsock::kTypeStream,
                .op = static_cast<std::uint16_t>(op),
                .flags = flags,
                .buf_alloc = c.buf_alloc,
                .fwd_cnt = c.fwd_cnt};
}

std::optional<vsock::Op> HostChannel::next_op(const Connection& c) const {
  if (!c.live()) return std::nullopt;
  if (c.request_due) return Op::kRequest;
  if (c.response_due) return Op::kResponse;
  if (c.phase == Phase::kConnecting) return std::nullopt;
  if (!c.queued.empty() && c.peer_credit() > 0) return Op::kRw;
  // SHUTDOWN with the send flag follows the last queued byte: the peer takes it as the end of data.
  if (c.shutdown_due && ((c.local_shutdown & kShutdownSend) == 0 || c.queued.empty())) return Op::kShutdown;
  if (c.credit_update_due) return Op::kCreditUpdate;
  if (c.credit_request_due) return Op::kCreditRequest;
  return std::nullopt;
}

std::vector<std::uint8_t> HostChannel::emit(Connection& c, Op op) {
  std::uint32_t flags = 0;
  std::uint32_t len = 0;
  switch (op) {
    case Op::kRequest:
      c.request_due = false;
      break;
    case Op::kResponse:
      c.response_due = false;
      break;
    case Op::kRw:
      // SAFETY: max_payload is at most 64 KiB (create()), so the chunk fits in 32 bits.
      len = static_cast<std::uint32_t>(
          std::min<std::size_t>({c.queued.size(), c.peer_credit(), limits_.max_payload}));
      break;
    case Op::kShutdown:
      c.shutdown_due = false;
      flags = c.local_shutdown;
      if (flags == kShutdownBoth) {
        c.awaiting_rst = true;  // the peer's RST ends the connection (spec 5.10.6.5)
        c.age = 0;
      }
      break;
    case Op::kCreditRequest:
      c.credit_request_due = false;
      break;
    default:  // CREDIT_UPDATE: every packet carries the credit, below
      break;
  }
  std::vector<std::uint8_t> packet = serialize(header_for(c, op, flags, len));
  if (len != 0) {
    c.queued.pop(std::span(packet).subspan(vsock::kHeaderBytes));
    c.tx_cnt += len;
    counters_.bytes_out += len;
    if (c.writer_blocked) {
      c.writer_blocked = false;
      raise(c, kEventWritable);
    }
    update_stall(c);
  }
  // The peer now knows this fwd_cnt: no separate CREDIT_UPDATE is owed for it.
  c.advertised_fwd_cnt = c.fwd_cnt;
  c.credit_update_due = false;
  return packet;
}

bool HostChannel::has_outgoing() const {
  return !resets_.empty() ||
         std::any_of(slots_.begin(), slots_.end(), [this](const Connection& c) { return next_op(c).has_value(); });
}

std::optional<std::vector<std::uint8_t>> HostChannel::next_outgoing() {
  if (!resets_.empty()) {
    std::vector<std::uint8_t> packet = serialize(resets_.front());
    resets_.pop_front();
    ++counters_.packets_out;
    return packet;
  }
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const std::size_t slot = (cursor_ + i) % slots_.size();
    Connection& c = slots_[slot];
    if (const std::optional<Op> op = next_op(c)) {
      // The next call starts after this connection, so a busy one cannot starve the others.
      cursor_ = (slot + 1) % slots_.size();
      ++counters_.packets_out;
      return emit(c, *op);
    }
  }
  return std::nullopt;
}

std::vector<std::vector<std::uint8_t>> HostChannel::take_outgoing() {
  std::vector<std::vector<std::uint8_t>> packets;
  while (std::optional<std::vector<std::uint8_t>> packet = next_outgoing()) packets.push_back(std::move(*packet));
  return packets;
}

}  // namespace tilehv::ioplane
