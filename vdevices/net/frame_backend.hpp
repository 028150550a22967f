// FrameBackend: where a virtio-net device's frames go and come from: a port of the tile's switch,
// a TAP device, or any other carrier of Ethernet frames. Backends are non-blocking; the VMM's
// device worker watches wake_fd() and lets the device look again when it becomes readable.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include <tl/expected.hpp>

namespace tilehv::vdevices {

enum class FrameSendStatus { kSent, kFull };

class FrameBackend {
 public:
  virtual ~FrameBackend() = default;
  // Hands one Ethernet frame (no virtio header) to the network. kFull: no room now; the device keeps
  // the frame in its queue and tries again after the wake fd fires.
  [[nodiscard]] virtual tl::expected<FrameSendStatus, std::string> send(std::span<const std::uint8_t> frame) = 0;
  // The length of the next frame for the guest, without taking it; nullopt if none is waiting.
  [[nodiscard]] virtual tl::expected<std::optional<std::uint32_t>, std::string> next_length() = 0;
  // Takes the next frame into `out` (at least max_frame() bytes).
  [[nodiscard]] virtual tl::expected<std::optional<std::uint32_t>, std::string> receive(std::span<std::uint8_t> out) = 0;
  // Before the device waits: false if a frame arrived meanwhile (look again instead of waiting).
  [[nodiscard]] virtual bool prepare_to_sleep() noexcept = 0;
  [[nodiscard]] virtual int wake_fd() const noexcept = 0;
  // The device starts listening: from now on the backend must wake it for frames (or wake it now if
  // some are already waiting).
  virtual void arm() noexcept = 0;
  virtual void consume_wake() noexcept = 0;
  [[nodiscard]] virtual std::uint32_t max_frame() const noexcept = 0;
  // What the backend is, for reports ("switch port eth0", "tap tap0").
  [[nodiscard]] virtual std::string describe() const = 0;
};

}  // namespace tilehv::vdevices
