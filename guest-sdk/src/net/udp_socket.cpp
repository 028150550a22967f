// UDP socket: a port bound on a Stack and the datagrams that arrived for it, queued until read.
#include <guest/net/udp_socket.hpp>

namespace guest::net {

void UdpSocket::assign_port(uint16_t port) {
  port_ = port;
  head_ = 0;
  count_ = 0;
}

bool UdpSocket::push(Ipv4Address source, uint16_t source_port, const uint8_t* payload, size_t size) {
  if (count_ == kDepth || size > kMaxPayload) {
    ++overflows_;
    return false;
  }
  Slot& slot = slots_[(head_ + count_) % kDepth];
  slot.source = source;
  slot.source_port = source_port;
  slot.size = static_cast<uint16_t>(size);
  __builtin_memcpy(slot.payload, payload, size);
  ++count_;
  return true;
}

bool UdpSocket::pop(ReceivedDatagram& out, void* buffer, size_t capacity) {
  if (count_ == 0) return false;
  const Slot& slot = slots_[head_];
  out = ReceivedDatagram{slot.source, slot.source_port, slot.size};
  __builtin_memcpy(buffer, slot.payload, slot.size < capacity ? slot.size : capacity);
  head_ = (head_ + 1) % kDepth;
  --count_;
  return true;
}

}  // namespace guest::net
