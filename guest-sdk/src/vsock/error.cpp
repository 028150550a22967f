// vsock errors: their names, for messages.
#include <guest/vsock/error.hpp>

namespace guest::vsock {

const char* error_name(Error error) {
  switch (error) {
    case Error::none: return "none";
    case Error::refused: return "refused";
    case Error::timed_out: return "timed out";
    case Error::reset: return "reset";
    case Error::end_of_stream: return "end of stream";
    case Error::closed: return "closed";
    case Error::no_free_socket: return "no free socket";
    case Error::port_in_use: return "port in use";
    case Error::bad_socket: return "bad socket";
    case Error::bad_address: return "bad address";
    case Error::not_ready: return "not ready";
  }
  return "unknown";
}

}  // namespace guest::vsock
