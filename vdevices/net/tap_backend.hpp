// TapBackend: a virtio-net device's frames through a Linux TAP interface (a host network device),
// for partitions wired straight to the host's network stack.
#pragma once

#include <string>
#include <vector>

#include "net/frame_backend.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::vdevices {

class TapBackend final : public FrameBackend {
 public:
  static constexpr std::uint32_t kMaxFrame = 65536;

  // Attaches to TAP interface `name` (created if absent, which needs CAP_NET_ADMIN; an existing
  // persistent TAP owned by the caller needs nothing).
  [[nodiscard]] static tl::expected<TapBackend, std::string> open(const std::string& name);

  [[nodiscard]] tl::expected<FrameSendStatus, std::string> send(std::span<const std::uint8_t> frame) override;
  [[nodiscard]] tl::expected<std::optional<std::uint32_t>, std::string> next_length() override;
  [[nodiscard]] tl::expected<std::optional<std::uint32_t>, std::string> receive(std::span<std::uint8_t> out) override;
  // The TAP fd is watched edge-triggered and drained until EAGAIN, so no sleep protocol is needed.
  [[nodiscard]] bool prepare_to_sleep() noexcept override { return true; }
  [[nodiscard]] int wake_fd() const noexcept override { return fd_.get(); }
  // Frames that queued before the device listened raised no new edge: a readable TAP stays readable,
  // so the device's first look (the driver's receive kick) finds them.
  void arm() noexcept override {}
  void consume_wake() noexcept override {}
  [[nodiscard]] std::uint32_t max_frame() const noexcept override { return kMaxFrame; }
  [[nodiscard]] std::string describe() const override { return "tap " + name_; }

 private:
  TapBackend(util::UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}

  util::UniqueFd fd_;
  std::string name_;
  std::vector<std::uint8_t> pending_;  // a frame read from the TAP, not yet taken by the device
  bool has_pending_ = false;
};

}  // namespace tilehv::vdevices
