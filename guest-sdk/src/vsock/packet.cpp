// vsock packet: the 44-byte virtio_vsock_hdr (virtio 1.2 spec 5.10.6) and its framing checks.
#include <guest/vsock/packet.hpp>

namespace guest::vsock {
namespace {

// Field offsets of struct virtio_vsock_hdr (packed, little-endian).
constexpr size_t off_src_cid = 0, off_dst_cid = 8, off_src_port = 16, off_dst_port = 20, off_len = 24, off_type = 28,
                 off_op = 30, off_flags = 32, off_buf_alloc = 36, off_fwd_cnt = 40;
static_assert(off_fwd_cnt + 4 == kHeaderSize);

void store(uint8_t* p, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(value >> (8 * i));
}
uint64_t load(const uint8_t* p, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = bytes; i-- > 0;) value = (value << 8) | p[i];
  return value;
}

}  // namespace

void encode_header(const Header& h, uint8_t* out) {
  store(out + off_src_cid, h.src_cid, 8);
  store(out + off_dst_cid, h.dst_cid, 8);
  store(out + off_src_port, h.src_port, 4);
  store(out + off_dst_port, h.dst_port, 4);
  store(out + off_len, h.len, 4);
  store(out + off_type, h.type, 2);
  store(out + off_op, static_cast<uint16_t>(h.op), 2);
  store(out + off_flags, h.flags, 4);
  store(out + off_buf_alloc, h.buf_alloc, 4);
  store(out + off_fwd_cnt, h.fwd_cnt, 4);
}

Header decode_header(const uint8_t* in) {
  Header h{};
  h.src_cid = load(in + off_src_cid, 8);
  h.dst_cid = load(in + off_dst_cid, 8);
  h.src_port = static_cast<uint32_t>(load(in + off_src_port, 4));
  h.dst_port = static_cast<uint32_t>(load(in + off_dst_port, 4));
  h.len = static_cast<uint32_t>(load(in + off_len, 4));
  h.type = static_cast<uint16_t>(load(in + off_type, 2));
  h.op = static_cast<Op>(load(in + off_op, 2));
  h.flags = static_cast<uint32_t>(load(in + off_flags, 4));
  h.buf_alloc = static_cast<uint32_t>(load(in + off_buf_alloc, 4));
  h.fwd_cnt = static_cast<uint32_t>(load(in + off_fwd_cnt, 4));
  return h;
}

bool parse_packet(const uint8_t* data, size_t size, Header& out) {
  if (size < kHeaderSize) return false;
  const Header h = decode_header(data);
  // The used length is the least the device wrote (spec 2.7.8.1): the payload must lie inside it.
  // Bytes beyond header + len are ignored, never delivered.
  if (h.len > size - kHeaderSize) return false;
  out = h;
  return true;
}

}  // namespace guest::vsock
