// errno_text: the message for an errno value, thread-safe.
#pragma once

#include <cstring>
#include <string>

namespace tilehv::util {

[[nodiscard]] inline std::string errno_text(int err) {
  char buf[128];
  // GNU strerror_r returns the message pointer, which may or may not be buf.
  return ::strerror_r(err, buf, sizeof buf);
}

}  // namespace tilehv::util
