// UDP socket: a port bound on a Stack and the datagrams that arrived for it, queued until read.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/net/address.hpp>

namespace guest::net {

struct ReceivedDatagram {
  Ipv4Address source;
  uint16_t source_port;
  size_t size;  // the datagram's payload size; the copy stops at the caller's capacity
};

class UdpSocket {
 public:
  static constexpr size_t kDepth = 16;
  static constexpr size_t kMaxPayload = 1472;  // a 1500-byte MTU minus the IPv4 and UDP headers

  constexpr UdpSocket() = default;
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  // The port it is bound to (Stack::bind), 0 before.
  [[nodiscard]] uint16_t port() const { return port_; }
  [[nodiscard]] size_t queued() const { return count_; }
  // Datagrams dropped because the queue was full.
  [[nodiscard]] uint64_t overflows() const { return overflows_; }

  // Stack side: Stack::bind() names the port (and empties the queue).
  void assign_port(uint16_t port);
  // Stack side: queues a datagram; false (and counted) when the queue is full or it is too large.
  bool push(Ipv4Address source, uint16_t source_port, const uint8_t* payload, size_t size);
  // Takes the oldest datagram: its payload is copied to buffer (at most capacity bytes).
  bool pop(ReceivedDatagram& out, void* buffer, size_t capacity);

 private:
  struct Slot {
    Ipv4Address source;
    uint16_t source_port;
    uint16_t size;
    uint8_t payload[kMaxPayload];
  };
  uint16_t port_ = 0;
  size_t head_ = 0;  // oldest
  size_t count_ = 0;
  uint64_t overflows_ = 0;
  Slot slots_[kDepth] = {};
};

}  // namespace guest::net
