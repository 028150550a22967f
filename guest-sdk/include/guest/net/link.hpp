// Link: what the network stack needs from a network device: raw Ethernet frames in and out, the
// station's MAC address and MTU, and a way to sleep until the device has something.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/net/address.hpp>
#include <guest/time.hpp>

namespace guest::net {

enum class SendResult : uint8_t { sent, busy, too_long };

class Link {
 public:
  [[nodiscard]] virtual MacAddress mac() const = 0;
  // The largest Ethernet payload (IP packet) the link carries.
  [[nodiscard]] virtual uint16_t mtu() const = 0;
  // Queues one frame (destination MAC first, no FCS); busy while the transmit queue is full.
  virtual SendResult send(const void* frame, size_t size) = 0;
  // Copies the next received frame into frame and returns its size; 0 when none is waiting. A frame
  // longer than capacity is dropped, never cut.
  virtual size_t receive(void* frame, size_t capacity) = 0;
  // Return true once a received frame is waiting / the transmit queue has room, false when the
  // deadline passed first.
  virtual bool wait_receive(const time::Deadline& deadline) = 0;
  virtual bool wait_send(const time::Deadline& deadline) = 0;
  // Returns true once the device is done with every queued frame, false when the deadline passed.
  virtual bool wait_sent(const time::Deadline& deadline) = 0;

 protected:
  Link() = default;
  ~Link() = default;
};

}  // namespace guest::net
