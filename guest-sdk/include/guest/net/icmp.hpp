// ICMP (RFC 792) echo: the reply to an echo request, which is what ping needs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace guest::net {

inline constexpr size_t icmp_header_size = 8;

enum class IcmpVerdict : uint8_t { reply, not_echo_request, malformed, too_large };

// If message (an ICMP message: the IP payload) is an echo request with a correct checksum, writes
// the echo reply (same identifier, sequence and data) to reply, sets reply_size and returns reply.
// Messages shorter than the ICMP header or with a wrong checksum are malformed; other messages are
// not answered.
IcmpVerdict icmp_echo_reply(const uint8_t* message, size_t size, uint8_t* reply, size_t capacity, size_t& reply_size);

}  // namespace guest::net
