// Network stack: Ethernet, ARP, IPv4, ICMP echo and UDP over one Link, for one IPv4 address.
#include <guest/net/arp.hpp>
#include <guest/net/icmp.hpp>
#include <guest/net/ipv4.hpp>
#include <guest/net/stack.hpp>
#include <guest/net/udp.hpp>

namespace guest::net {
namespace {

constexpr size_t ip_offset = ethernet_header_size;
constexpr size_t l4_offset = ethernet_header_size + ipv4_header_size;
constexpr uint16_t max_ethernet_payload = 1500;

}  // namespace

size_t Stack::max_udp_payload() const {
  const uint16_t mtu = link_.mtu() < max_ethernet_payload ? link_.mtu() : max_ethernet_payload;
  const size_t headers = ipv4_header_size + udp_header_size;
  return mtu > headers ? mtu - headers : 0;
}

bool Stack::bind(UdpSocket& socket, uint16_t port) {
  if (port == 0 || socket_for(port) != nullptr) return false;
  for (UdpSocket* s : sockets_) {
    if (s == &socket) return false;
  }
  for (UdpSocket*& slot : sockets_) {
    if (slot == nullptr) {
      socket.assign_port(port);
      slot = &socket;
      return true;
    }
  }
  return false;
}

void Stack::unbind(UdpSocket& socket) {
  for (UdpSocket*& slot : sockets_) {
    if (slot == &socket) slot = nullptr;
  }
  socket.assign_port(0);
}

bool Stack::flush(uint64_t timeout_ns) { return link_.wait_sent(time::Deadline::after_ns(timeout_ns)); }

UdpSocket* Stack::socket_for(uint16_t port) {
  for (UdpSocket* s : sockets_) {
    if (s != nullptr && s->port() == port) return s;
  }
  return nullptr;
}

size_t Stack::poll(size_t budget) {
  size_t taken = 0;
  while (taken < budget) {
    const size_t size = link_.receive(rx_frame_, sizeof rx_frame_);
    if (size == 0) break;
    ++taken;
    handle_frame(rx_frame_, size);
  }
  return taken;
}

void Stack::handle_frame(const uint8_t* data, size_t size) {
  ++counters_.frames;
  EthernetFrame frame{};
  // No station sends from a group address; answering one would reach every station.
  if (!parse_ethernet(data, size, frame) || frame.source.is_group()) {
    ++counters_.malformed;
    return;
  }
  if (!(frame.destination == link_.mac()) && !(frame.destination == MacAddress::broadcast())) {
    ++counters_.ignored;
    return;
  }
  if (frame.type == ethertype_arp) {
    handle_arp(frame);
  } else if (frame.type == ethertype_ipv4) {
    handle_ipv4(frame);
  } else {
    ++counters_.ignored;
  }
}

// RFC 826's receive algorithm: refresh a known sender; if we are the target, learn the sender and
// answer a request.
void Stack::handle_arp(const EthernetFrame& frame) {
  ArpMessage m{};
  if (!parse_arp(frame.payload, frame.payload_size, m) || m.sender_mac.is_group() || m.sender_mac.is_zero()) {
    ++counters_.malformed;
    return;
  }
  // Probes (sender 0.0.0.0) and claims to our own address teach nothing worth caching.
  if (!m.sender_ip.is_unicast() || m.sender_ip == address_) {
    ++counters_.ignored;
    return;
  }
  const bool merged = arp_.update(m.sender_ip, m.sender_mac);
  if (!(m.target_ip == address_)) {
    if (!merged) ++counters_.ignored;
    return;
  }
  if (!merged) arp_.insert(m.sender_ip, m.sender_mac);
  if (m.operation == arp_request) send_arp(arp_reply, m.sender_mac, m.sender_mac, m.sender_ip);
}

void Stack::handle_ipv4(const EthernetFrame& frame) {
  Ipv4Packet packet{};
  if (!parse_ipv4(frame.payload, frame.payload_size, packet)) {
    ++counters_.malformed;
    return;
  }
  if (!(packet.destination == address_)) {
    ++counters_.ignored;
    return;
  }
  if (packet.protocol == ip_protocol_icmp) {
    size_t reply_size = 0;
    const size_t capacity = max_udp_payload() + udp_header_size;  // the link's IP payload limit
    const IcmpVerdict verdict =
        icmp_echo_reply(packet.payload, packet.payload_size, tx_frame_ + l4_offset, capacity, reply_size);
    if (verdict == IcmpVerdict::malformed) ++counters_.malformed;
    if (verdict == IcmpVerdict::not_echo_request || verdict == IcmpVerdict::too_large) ++counters_.ignored;
    if (verdict != IcmpVerdict::reply) return;
    // Back to the station the request came from: no ARP round trip, as Linux hosts answer too.
    write_ethernet_header(tx_frame_, frame.source, link_.mac(), ethertype_ipv4);
    write_ipv4_header(tx_frame_ + ip_offset, address_, packet.source, ip_protocol_icmp, next_identification_++,
                      reply_size);
    if (transmit(l4_offset + reply_size, false)) {
      ++counters_.icmp_echo_replies;
    } else {
      ++counters_.replies_dropped;
    }
    return;
  }
  if (packet.protocol == ip_protocol_udp) {
    UdpDatagram datagram{};
    if (!parse_udp(packet, datagram)) {
      ++counters_.malformed;
      return;
    }
    UdpSocket* socket = socket_for(datagram.destination_port);
    if (socket == nullptr) {
      ++counters_.udp_unbound;
    } else if (socket->push(packet.source, datagram.source_port, datagram.payload, datagram.payload_size)) {
      ++counters_.udp_delivered;
    } else {
      ++counters_.udp_overflows;
    }
    return;
  }
  ++counters_.ignored;
}

void Stack::send_arp(uint16_t operation, const MacAddress& destination, const MacAddress& target_mac,
                     Ipv4Address target_ip) {
  write_ethernet_header(tx_frame_, destination, link_.mac(), ethertype_arp);
  write_arp(tx_frame_ + ethernet_header_size, ArpMessage{operation, link_.mac(), address_, target_mac, target_ip});
  const bool request = operation == arp_request;
  if (!transmit(ethernet_header_size + arp_message_size, request)) {
    ++counters_.replies_dropped;
  } else if (request) {
    ++counters_.arp_requests_sent;
  } else {
    ++counters_.arp_replies_sent;
  }
}

bool Stack::transmit(size_t size, bool wait) {
  if (size < ethernet_min_frame_size) {
    __builtin_memset(tx_frame_ + size, 0, ethernet_min_frame_size - size);
    size = ethernet_min_frame_size;
  }
  const time::Deadline deadline = time::Deadline::after_ns(wait ? send_timeout_ns_ : 0);
  for (;;) {
    const SendResult result = link_.send(tx_frame_, size);
    if (result == SendResult::sent) return true;
    if (result == SendResult::too_long || !wait) return false;
    if (!link_.wait_send(deadline)) return false;
  }
}

bool Stack::resolve(Ipv4Address ip, MacAddress& out, uint64_t timeout_ns, uint64_t retry_ns) {
  if (ip == Ipv4Address::broadcast()) {
    out = MacAddress::broadcast();
    return true;
  }
  if (arp_.lookup(ip, out)) return true;
  if (!ip.is_unicast()) return false;
  const time::Deadline deadline = time::Deadline::after_ns(timeout_ns);
  for (;;) {
    send_arp(arp_request, MacAddress::broadcast(), MacAddress{}, ip);
    const uint64_t remaining = deadline.remaining_ns();
    const time::Deadline retry = time::Deadline::after_ns(retry_ns < remaining ? retry_ns : remaining);
    for (;;) {
      poll();
      if (arp_.lookup(ip, out)) return true;
      if (deadline.expired()) return false;
      if (retry.expired()) break;
      link_.wait_receive(retry);
    }
  }
}

SendStatus Stack::send_udp(uint16_t source_port, Ipv4Address destination, uint16_t destination_port,
                           const void* payload, size_t size) {
  if (size > max_udp_payload()) return SendStatus::too_long;
  MacAddress mac{};
  // Resolving polls, and answers sent meanwhile use tx_frame_: the datagram is built only after.
  if (!resolve(destination, mac, arp_timeout_ns_)) return SendStatus::unresolved;
  write_ethernet_header(tx_frame_, mac, link_.mac(), ethertype_ipv4);
  const size_t udp_size = udp_header_size + size;
  write_ipv4_header(tx_frame_ + ip_offset, address_, destination, ip_protocol_udp, next_identification_++, udp_size);
  write_udp(tx_frame_ + l4_offset, address_, destination, source_port, destination_port, payload, size);
  return transmit(l4_offset + udp_size, true) ? SendStatus::sent : SendStatus::link_busy;
}

bool Stack::receive_udp(UdpSocket& socket, ReceivedDatagram& out, void* buffer, size_t capacity,
                        const time::Deadline& deadline) {
  for (;;) {
    if (socket.pop(out, buffer, capacity)) return true;
    // One frame at a time, so a burst for this socket cannot overflow its queue.
    const bool took = poll(1) != 0;
    if (socket.pop(out, buffer, capacity)) return true;
    if (deadline.expired()) return false;
    if (!took) link_.wait_receive(deadline);
  }
}

}  // namespace guest::net
