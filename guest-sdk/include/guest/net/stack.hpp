// Network stack: Ethernet, ARP, IPv4, ICMP echo and UDP over one Link, for one IPv4 address.
//
// Single-threaded: one CPU drives a Stack at a time. Frames are handled when the kernel calls poll()
// or one of the blocking calls (resolve, send_udp, receive_udp), which poll while they wait. Every
// received frame is checked field by field before it is used: a hostile or broken peer can make the
// stack drop frames (counted), never read outside the frame or answer with more than it received.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/net/address.hpp>
#include <guest/net/arp_cache.hpp>
#include <guest/net/ethernet.hpp>
#include <guest/net/link.hpp>
#include <guest/net/udp_socket.hpp>
#include <guest/time.hpp>

namespace guest::net {

struct StackCounters {
  uint64_t frames = 0;          // taken from the link
  uint64_t malformed = 0;       // failed a length, format or checksum check
  uint64_t ignored = 0;         // well-formed but not for us (other MAC or IP, unsupported protocol)
  uint64_t arp_requests_sent = 0;
  uint64_t arp_replies_sent = 0;
  uint64_t icmp_echo_replies = 0;
  uint64_t udp_delivered = 0;
  uint64_t udp_unbound = 0;     // for a port nobody bound
  uint64_t udp_overflows = 0;   // the socket's queue was full
  uint64_t replies_dropped = 0; // an ARP or ICMP frame of the stack found no room on the link
};

enum class SendStatus : uint8_t { sent, too_long, unresolved, link_busy };

class Stack {
 public:
  static constexpr size_t kMaxSockets = 4;
  static constexpr size_t kMaxFrame = ethernet_header_size + 1500 + 4;  // room for a VLAN tag, which is dropped

  Stack(Link& link, Ipv4Address address) : link_(link), address_(address) {}
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  [[nodiscard]] Ipv4Address address() const { return address_; }
  [[nodiscard]] MacAddress mac() const { return link_.mac(); }
  // The largest UDP payload one unfragmented datagram carries on this link.
  [[nodiscard]] size_t max_udp_payload() const;
  [[nodiscard]] const StackCounters& counters() const { return counters_; }
  [[nodiscard]] ArpCache& arp_cache() { return arp_; }

  // Datagrams for port are queued on socket from now on. False for port 0, a port already bound, a
  // socket already bound, or when all kMaxSockets are bound.
  bool bind(UdpSocket& socket, uint16_t port);
  void unbind(UdpSocket& socket);

  // Handles up to budget frames waiting on the link; returns how many it took.
  size_t poll(size_t budget = 64);
  // What poll() does with each frame: tests feed frames through it without a device.
  void handle_frame(const uint8_t* frame, size_t size);

  // The MAC address of ip (on the local link): from the cache, else ARP requests every retry_ns
  // until timeout_ns passed. The limited broadcast address resolves to the broadcast MAC.
  bool resolve(Ipv4Address ip, MacAddress& out, uint64_t timeout_ns, uint64_t retry_ns = 250'000'000);

  // Sends one datagram. An unknown destination is resolved first (for up to the ARP timeout); a full
  // transmit queue is waited out for up to the send timeout.
  SendStatus send_udp(uint16_t source_port, Ipv4Address destination, uint16_t destination_port, const void* payload,
                      size_t size);
  // Waits for a datagram on socket until deadline, handling other frames meanwhile; copies its
  // payload to buffer (at most capacity bytes) and describes it in out.
  bool receive_udp(UdpSocket& socket, ReceivedDatagram& out, void* buffer, size_t capacity,
                   const time::Deadline& deadline);

  // Waits up to timeout_ns until the link has sent every queued frame: before a kernel exits, as the
  // device may still hold frames the kernel considers sent.
  bool flush(uint64_t timeout_ns);

  void set_arp_timeout_ns(uint64_t ns) { arp_timeout_ns_ = ns; }
  void set_send_timeout_ns(uint64_t ns) { send_timeout_ns_ = ns; }

 private:
  void handle_arp(const EthernetFrame& frame);
  void handle_ipv4(const EthernetFrame& frame);
  void send_arp(uint16_t operation, const MacAddress& destination, const MacAddress& target_mac,
                Ipv4Address target_ip);
  // Sends tx_frame_[0..size), padded to the Ethernet minimum. Answers (ARP, ICMP) give up when the
  // queue is full rather than wait inside poll().
  bool transmit(size_t size, bool wait);
  UdpSocket* socket_for(uint16_t port);

  Link& link_;
  Ipv4Address address_;
  ArpCache arp_;
  UdpSocket* sockets_[kMaxSockets] = {};
  StackCounters counters_;
  uint16_t next_identification_ = 1;
  uint64_t arp_timeout_ns_ = 1'000'000'000;
  uint64_t send_timeout_ns_ = 1'000'000'000;
  uint8_t rx_frame_[kMaxFrame] = {};
  uint8_t tx_frame_[kMaxFrame] = {};
};

}  // namespace guest::net
