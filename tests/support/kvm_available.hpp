// KVM availability: integration tests skip with the reason where /dev/kvm cannot be used.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace tilehv::testing {

// Empty when /dev/kvm can be opened; otherwise why not.
inline std::string kvm_unavailable_reason() {
  const int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return std::string("/dev/kvm unusable: ") + std::strerror(errno);
  ::close(fd);
  return {};
}

}  // namespace tilehv::testing

#define TILEHV_REQUIRE_KVM()                                                        \
  do {                                                                              \
    if (const std::string reason = ::tilehv::testing::kvm_unavailable_reason();     \
        !reason.empty()) {                                                          \
      GTEST_SKIP() << reason;                                                       \
    }                                                                               \
  } while (0)
