// Where something was written: a policy's values carry their file, line and column so that every
// error can point at its cause.
#pragma once

#include <string>

namespace tilehv::policy {

struct Located {
  std::string path;  // field path, e.g. "partitions[2].devices.network.mtu"
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based
};

}  // namespace tilehv::policy
