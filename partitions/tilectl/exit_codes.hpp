// Exit codes of tilectl: what a script can tell apart without reading the messages.
#pragma once

namespace tilehv::tilectl {

inline constexpr int kExitOk = 0;
// The daemon refused the request or the operation failed (an invalid policy, an unknown partition,
// an apply that was rolled back), or the operator declined the confirmation.
inline constexpr int kExitFailed = 1;
// No answer from the daemon: the socket is missing, refuses connections, or the exchange timed out.
inline constexpr int kExitUnreachable = 2;
// EX_USAGE of sysexits.h: the command line is wrong or incomplete (e.g. apply without --yes and
// without a terminal to ask on).
inline constexpr int kExitUsage = 64;

}  // namespace tilehv::tilectl
