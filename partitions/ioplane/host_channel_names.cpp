// HostChannel types: the names of states, errors and violations, for logs, metrics and messages.
#include "ioplane/host_channel_types.hpp"

namespace tilehv::ioplane {

std::string_view state_name(ConnectionState state) {
  switch (state) {
    case ConnectionState::kConnecting:
      return "connecting";
    case ConnectionState::kConnected:
      return "connected";
    case ConnectionState::kRefused:
      return "refused";
    case ConnectionState::kClosed:
      return "closed";
    case ConnectionState::kReset:
      return "reset";
  }
  return "unknown";
}

std::string_view error_name(HostChannelError error) {
  switch (error) {
    case HostChannelError::kBadLimits:
      return "a limit is out of range";
    case HostChannelError::kBadAddress:
      return "reserved CID or port";
    case HostChannelError::kPortInUse:
      return "port in use";
    case HostChannelError::kTooManyListeners:
      return "too many listeners";
    case HostChannelError::kNoFreeConnection:
      return "no free connection";
    case HostChannelError::kBadConnection:
      return "no such connection";
    case HostChannelError::kNotConnected:
      return "not connected yet";
    case HostChannelError::kShutDown:
      return "sending was shut down";
    case HostChannelError::kEndOfStream:
      return "end of stream";
    case HostChannelError::kRefused:
      return "connection refused";
    case HostChannelError::kReset:
      return "connection reset";
  }
  return "unknown error";
}

std::string_view violation_name(Violation violation) {
  switch (violation) {
    case Violation::kMalformed:
      return "malformed";
    case Violation::kWrongDestination:
      return "wrong_destination";
    case Violation::kBadSource:
      return "bad_source";
    case Violation::kUnexpectedOp:
      return "unexpected_op";
    case Violation::kCreditOverrun:
      return "credit_overrun";
    case Violation::kBadCreditFields:
      return "bad_credit_fields";
    case Violation::kDataAfterShutdown:
      return "data_after_shutdown";
    case Violation::kCount:
      break;
  }
  return "unknown";
}

}  // namespace tilehv::ioplane
