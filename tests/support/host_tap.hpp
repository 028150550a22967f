// HostTap: a persistent TAP device of the host, made for one test and deleted when it ends, with the
// host's side configured as the test asks (an address, an MTU). Tests that need one skip where it
// cannot be made (root and /dev/net/tun are needed).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace tilehv::testing {

// Empty when TAP devices can be made here; otherwise why not.
inline std::string host_tap_unavailable_reason() {
  if (::geteuid() != 0) return "making a TAP device needs root";
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) return "making a TAP device needs /dev/net/tun";
  return {};
}

class HostTap {
 public:
  // `prefix` (up to 9 characters) and this process's id: tests run in parallel, and another test's
  // set-up must not delete the device this one uses.
  explicit HostTap(const std::string& prefix) : name_(prefix + std::to_string(::getpid() % 100000)) {}
  ~HostTap() { remove(); }
  HostTap(const HostTap&) = delete;
  HostTap& operator=(const HostTap&) = delete;

  // Makes the device (replacing a leftover of the same name) and brings it up. IPv6 is turned off on
  // it so that the host sends nothing the test did not ask for (router solicitations, MLD reports).
  [[nodiscard]] bool create(const std::optional<std::string>& address = std::nullopt, unsigned mtu = 1500) {
    remove();
    (void)run("ip link del " + name_ + " 2>/dev/null");  // a leftover of a crashed run with this pid
    if (!run("ip tuntap add dev " + name_ + " mode tap")) return false;
    created_ = true;
    (void)run("sysctl -qw net.ipv6.conf." + name_ + ".disable_ipv6=1 2>/dev/null");
    if (!run("ip link set dev " + name_ + " mtu " + std::to_string(mtu))) return false;
    if (address && !run("ip addr add " + *address + " dev " + name_)) return false;
    return run("ip link set dev " + name_ + " up");
  }
  void remove() {
    if (created_) (void)run("ip link del " + name_ + " 2>/dev/null");
    created_ = false;
  }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  static bool run(const std::string& command) { return std::system(command.c_str()) == 0; }

  std::string name_;
  bool created_ = false;
};

}  // namespace tilehv::testing
