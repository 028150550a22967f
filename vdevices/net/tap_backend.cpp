// TapBackend: a virtio-net device's frames through a Linux TAP interface.
#include "net/tap_backend.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "util/errno_text.hpp"

namespace tilehv::vdevices {

tl::expected<TapBackend, std::string> TapBackend::open(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return tl::unexpected(fmt::format("TAP name '{}' must have 1 to {} characters", name, IFNAMSIZ - 1));
  }
  util::UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return tl::unexpected("/dev/net/tun: " + util::errno_text(errno));
  ifreq request{};
  std::memcpy(request.ifr_name, name.data(), name.size());
  // No packet-information prefix and no vnet header: the device completes checksums itself.
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) {
    return tl::unexpected(fmt::format("cannot attach to TAP {}: {}", name, util::errno_text(errno)));
  }
  TapBackend backend(std::move(fd), name);
  backend.pending_.resize(kMaxFrame);
  return backend;
}

tl::expected<FrameSendStatus, std::string> TapBackend::send(std::span<const std::uint8_t> frame) {
  for (;;) {
    const ssize_t n = ::write(fd_.get(), frame.data(), frame.size());
    if (n >= 0) return FrameSendStatus::kSent;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return FrameSendStatus::kFull;
    // The interface is down or gone: the frame is lost as on a cable nobody listens to.
    if (errno == EIO || errno == ENETDOWN) return FrameSendStatus::kSent;
    return tl::unexpected(fmt::format("write to TAP {}: {}", name_, util::errno_text(errno)));
  }
}

tl::expected<std::optional<std::uint32_t>, std::string> TapBackend::next_length() {
  if (has_pending_) return static_cast<std::uint32_t>(pending_.size());
  pending_.resize(kMaxFrame);
  for (;;) {
    const ssize_t n = ::read(fd_.get(), pending_.data(), pending_.size());
    if (n >= 0) {
      pending_.resize(static_cast<std::size_t>(n));
      has_pending_ = true;
      return static_cast<std::uint32_t>(n);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return std::nullopt;
    return tl::unexpected(fmt::format("read from TAP {}: {}", name_, util::errno_text(errno)));
  }
}

tl::expected<std::optional<std::uint32_t>, std::string> TapBackend::receive(std::span<std::uint8_t> out) {
  auto length = next_length();
  if (!length || !length->has_value()) return length;
  if (**length > out.size()) return tl::unexpected(fmt::format("a {}-byte frame does not fit {} bytes", **length, out.size()));
  std::memcpy(out.data(), pending_.data(), **length);
  has_pending_ = false;
  return length;
}

}  // namespace tilehv::vdevices
