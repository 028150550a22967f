// vsock-selftest: what its two parts share: the two socket tables wired back to back and check().
#pragma once

#include <guest/vsock/sockets.hpp>

#include "loop_transport.hpp"

namespace selftest {

inline constexpr uint64_t kCidA = 3, kCidB = 4;

extern LoopTransport transport_a, transport_b;
extern guest::vsock::Sockets a, b;

void check(bool ok, const char* what);

// The stream life cycle between a and b: connect, data, credit, shutdown, close, resets.
void run_stream_tests();
// The codec, the receive buffer, and hostile packets fed straight into b.
void run_hostile_tests();

}  // namespace selftest
