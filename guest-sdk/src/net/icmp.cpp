// ICMP (RFC 792) echo: the reply to an echo request.
#include <guest/net/bytes.hpp>
#include <guest/net/icmp.hpp>
#include <guest/net/internet_checksum.hpp>

namespace guest::net {
namespace {

constexpr uint8_t type_echo_reply = 0, type_echo_request = 8;

}  // namespace

IcmpVerdict icmp_echo_reply(const uint8_t* message, size_t size, uint8_t* reply, size_t capacity, size_t& reply_size) {
  reply_size = 0;
  if (size < icmp_header_size || checksum_finish(checksum_add(message, size)) != 0) return IcmpVerdict::malformed;
  if (message[0] != type_echo_request || message[1] != 0) return IcmpVerdict::not_echo_request;
  if (size > capacity) return IcmpVerdict::too_large;
  __builtin_memcpy(reply, message, size);
  reply[0] = type_echo_reply;
  store16(reply + 2, 0);
  store16(reply + 2, checksum_finish(checksum_add(reply, size)));
  reply_size = size;
  return IcmpVerdict::reply;
}

}  // namespace guest::net
