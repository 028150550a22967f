// Guest kernels: where the SDK's example and test kernels are built.
#pragma once

#include <string>

namespace tilehv::testing {

inline std::string guest_kernel(const std::string& name) { return std::string(TILEHV_GUEST_DIR) + "/" + name + ".elf"; }

}  // namespace tilehv::testing
