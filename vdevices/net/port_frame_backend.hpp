// PortFrameBackend: a virtio-net device's frames through an I/O-plane port (one frame per message),
// to the tile's L2 switch.
#pragma once

#include <string>

#include "net/frame_backend.hpp"
#include "port/port_endpoint.hpp"

namespace tilehv::vdevices {

class PortFrameBackend final : public FrameBackend {
 public:
  PortFrameBackend(port::PortEndpoint endpoint, std::string name) : endpoint_(std::move(endpoint)), name_(std::move(name)) {}

  [[nodiscard]] tl::expected<FrameSendStatus, std::string> send(std::span<const std::uint8_t> frame) override {
    auto pushed = endpoint_.send(frame);
    if (!pushed) return tl::unexpected("switch port ring: " + pushed.error().message);
    return *pushed == port::PushResult::kPushed ? FrameSendStatus::kSent : FrameSendStatus::kFull;
  }
  [[nodiscard]] tl::expected<std::optional<std::uint32_t>, std::string> next_length() override {
    auto length = endpoint_.peek_length();
    if (!length) return tl::unexpected("switch port ring: " + length.error().message);
    return *length;
  }
  [[nodiscard]] tl::expected<std::optional<std::uint32_t>, std::string> receive(std::span<std::uint8_t> out) override {
    auto got = endpoint_.receive(out);
    if (!got) return tl::unexpected("switch port ring: " + got.error().message);
    return *got;
  }
  [[nodiscard]] bool prepare_to_sleep() noexcept override { return endpoint_.prepare_to_sleep(); }
  [[nodiscard]] int wake_fd() const noexcept override { return endpoint_.wake_fd(); }
  void arm() noexcept override { endpoint_.arm(); }
  void consume_wake() noexcept override { endpoint_.consume_wake(); }
  [[nodiscard]] std::uint32_t max_frame() const noexcept override { return endpoint_.max_message(); }
  [[nodiscard]] std::string describe() const override { return "switch port " + name_; }

 private:
  port::PortEndpoint endpoint_;
  std::string name_;
};

}  // namespace tilehv::vdevices
