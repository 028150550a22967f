// The virtio-vsock packet header (virtio 1.2 spec 5.10.6) and its checks, shared by the device and
// the tile's channel router. All fields are little endian; x86 hosts read them directly.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>

namespace tilehv::vdevices::vsock {

struct [[gnu::packed]] PacketHeader {
  std::uint64_t src_cid;
  std::uint64_t dst_cid;
  std::uint32_t src_port;
  std::uint32_t dst_port;
  std::uint32_t len;
  std::uint16_t type;
  std::uint16_t op;
  std::uint32_t flags;
  std::uint32_t buf_alloc;
  std::uint32_t fwd_cnt;
};
static_assert(sizeof(PacketHeader) == 44);

inline constexpr std::uint32_t kHeaderBytes = sizeof(PacketHeader);
inline constexpr std::uint16_t kTypeStream = 1;
inline constexpr std::uint64_t kHostCid = 2;
inline constexpr std::uint64_t kFirstGuestCid = 3;
// The largest payload one packet may carry (Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE).
inline constexpr std::uint32_t kMaxPayload = 64 * 1024;

enum class Op : std::uint16_t {
  kRequest = 1,
  kResponse = 2,
  kRst = 3,
  kShutdown = 4,
  kRw = 5,
  kCreditUpdate = 6,
  kCreditRequest = 7,
};

[[nodiscard]] inline PacketHeader read_header(std::span<const std::uint8_t> packet) {
  PacketHeader h{};
  std::memcpy(&h, packet.data(), sizeof h);
  return h;
}

// Why a packet is malformed, or nullopt: header present, length matching, a stream packet with a
// known operation, payload only on RW, and CIDs that are not reserved values.
[[nodiscard]] inline std::optional<std::string> check_packet(std::span<const std::uint8_t> packet) {
  if (packet.size() < kHeaderBytes) return "shorter than the 44-byte header";
  const PacketHeader h = read_header(packet);
  if (h.len != packet.size() - kHeaderBytes) return "header length does not match the packet";
  if (h.len > kMaxPayload) return "payload larger than 64 KiB";
  if (h.type != kTypeStream) return "not a stream packet";
  if (h.op < 1 || h.op > 7) return "unknown operation";
  if (h.len != 0 && h.op != static_cast<std::uint16_t>(Op::kRw)) return "payload on a packet that is not RW";
  if (h.src_cid > 0xffff'ffffULL || h.dst_cid > 0xffff'ffffULL) return "CID beyond 32 bits";
  return std::nullopt;
}

// The reset a router or device sends back for a packet it will not deliver (never for a reset).
[[nodiscard]] inline PacketHeader reset_for(const PacketHeader& h) {
  PacketHeader r{};
  r.src_cid = h.dst_cid;
  r.dst_cid = h.src_cid;
  r.src_port = h.dst_port;
  r.dst_port = h.src_port;
  r.type = kTypeStream;
  r.op = static_cast<std::uint16_t>(Op::kRst);
  return r;
}

}  // namespace tilehv::vdevices::vsock
