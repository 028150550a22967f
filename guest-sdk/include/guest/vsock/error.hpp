// vsock errors: what a stream socket call tells its caller when it did not simply succeed.
#pragma once

#include <cstdint>

namespace guest::vsock {

enum class Error : uint8_t {
  none,
  refused,         // connect: the peer answered RST: nobody listens on that port (or it was full)
  timed_out,       // the deadline passed first
  reset,           // the connection was reset: RST from the peer, a transport reset, or a protocol violation
  end_of_stream,   // receive: the peer sends no more and every byte it sent has been read
  closed,          // send: the peer receives no more, or this side shut sending down
  no_free_socket,  // every socket slot is in use
  port_in_use,     // listen: another socket has the port
  bad_socket,      // not an open socket (closed, stale handle) or the wrong kind for the call
  bad_address,     // a reserved CID, or this guest's own
  not_ready,       // no transport: the device did not initialize
};

[[nodiscard]] const char* error_name(Error error);

}  // namespace guest::vsock
