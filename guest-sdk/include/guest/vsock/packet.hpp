// vsock packet: the 44-byte virtio_vsock_hdr (virtio 1.2 spec 5.10.6) that starts every packet on
// the rx and tx queues, its constants, and the checks a received one must pass before it is used.
#pragma once

#include <cstddef>
#include <cstdint>

namespace guest::vsock {

inline constexpr size_t kHeaderSize = 44;
// The SDK's packet buffers hold a header and its payload together (4 KiB, as Linux's driver uses);
// a device fills a receive buffer with one whole packet, so no payload is larger than the rest.
inline constexpr size_t kPacketBufferSize = 4096;
inline constexpr size_t kMaxPayload = kPacketBufferSize - kHeaderSize;

// Spec 5.10.4: CIDs 0 and 1 are reserved, 2 is the host, 0xffffffff is reserved; the upper 32 bits of
// a CID are reserved and zero.
inline constexpr uint64_t kHostCid = 2;
inline constexpr uint64_t kFirstGuestCid = 3;
inline constexpr uint64_t kReservedCid = 0xffffffff;

inline constexpr uint16_t kTypeStream = 1;

enum class Op : uint16_t {
  invalid = 0,
  request = 1,
  response = 2,
  rst = 3,
  shutdown = 4,
  rw = 5,
  credit_update = 6,
  credit_request = 7,
};

// SHUTDOWN flags (spec 5.10.6.5): the sender will receive no more / send no more.
inline constexpr uint32_t kShutdownReceive = 1;
inline constexpr uint32_t kShutdownSend = 2;
inline constexpr uint32_t kShutdownBoth = kShutdownReceive | kShutdownSend;

struct Header {
  uint64_t src_cid;
  uint64_t dst_cid;
  uint32_t src_port;
  uint32_t dst_port;
  uint32_t len;  // payload bytes after the header
  uint16_t type;
  Op op;  // any 16-bit value a peer sent, named or not
  uint32_t flags;
  uint32_t buf_alloc;  // the sender's receive buffer for this connection (spec 5.10.6.3)
  uint32_t fwd_cnt;    // bytes the sender's application has consumed from it
};

// Little-endian wire format, byte by byte: never a misaligned or type-punned access.
void encode_header(const Header& header, uint8_t* out);
[[nodiscard]] Header decode_header(const uint8_t* in);

// The framing of a received buffer of `size` valid bytes (the used length): a whole header, and a
// payload that fits in what the device wrote. False for anything shorter.
[[nodiscard]] bool parse_packet(const uint8_t* data, size_t size, Header& out);

// A CID a peer can have: not reserved, upper half zero. The host (2) is one.
[[nodiscard]] constexpr bool is_peer_cid(uint64_t cid) { return cid >= kHostCid && cid < kReservedCid; }
// A CID a guest can have: a peer CID other than the host's.
[[nodiscard]] constexpr bool is_guest_cid(uint64_t cid) { return cid >= kFirstGuestCid && cid < kReservedCid; }

}  // namespace guest::vsock
