// vsock transport: what the stream sockets need from a virtio-vsock device: the guest's CID, packets
// in and out, the device's transport-reset events, and a way to sleep until there is work.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/time.hpp>
#include <guest/vsock/packet.hpp>

namespace guest::vsock {

enum class SendResult : uint8_t { sent, busy, too_long };

class Transport {
 public:
  // This guest's CID (it may change after a transport reset, spec 5.10.6.6).
  [[nodiscard]] virtual uint64_t local_cid() const = 0;
  // The largest payload one packet carries in either direction.
  [[nodiscard]] virtual size_t max_payload() const = 0;
  // Queues one packet: the header (header.len == payload bytes) and header.len payload bytes.
  virtual SendResult send(const Header& header, const void* payload) = 0;
  // The next received packet whose framing is sound: its header, and its payload copied to payload
  // (header.len bytes, at most capacity; a longer one is dropped, never cut). False when none waits.
  virtual bool receive(Header& header, uint8_t* payload, size_t capacity) = 0;
  // Whether the device reported a transport reset since the last call: every connection is gone.
  virtual bool take_reset() = 0;
  // Returns true once a packet or event is waiting, or (with for_send) the transmit queue has room;
  // false when the deadline passed first.
  virtual bool wait(const time::Deadline& deadline, bool for_send) = 0;
  // Returns true once the device has taken every queued packet, false when the deadline passed.
  virtual bool wait_sent(const time::Deadline& deadline) = 0;

 protected:
  Transport() = default;
  ~Transport() = default;
};

}  // namespace guest::vsock
