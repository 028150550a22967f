// ConsolePortBackend: the host end of one virtio-console port, a byte stream in each direction, and
// BackendWaker, how a backend's owner learns that the device should look at the port again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tilehv::vdevices {

// The device calls both functions with its own lock held, from whichever thread serves the device
// (the VMM's device worker). A backend therefore must not block for long, must not call back into the
// device or the transport from inside them, and must not wake its waker from inside them.
class ConsolePortBackend {
 public:
  virtual ~ConsolePortBackend() = default;
  // Host to guest: copies up to `out.size()` pending bytes into `out` (a guest receive buffer) and
  // returns how many; 0 when nothing is pending. Bytes returned are gone from the backend.
  virtual std::size_t read(std::span<std::uint8_t> out) noexcept = 0;
  // Guest to host: takes a prefix of `bytes` and returns its length; less than `bytes.size()` when
  // the backend is full (back-pressure). The device offers the rest again, from the first byte not
  // taken, after the backend has woken it.
  virtual std::size_t write(std::span<const std::uint8_t> bytes) noexcept = 0;
};

// A backend wakes the device when it gains bytes for the guest or room for the guest's bytes. The
// VMM implements it by signalling an eventfd its device worker watches; the worker then calls
// MmioTransport::notify_queue(VirtioConsole::receive_queue(port)). To the device that is a
// notification like a guest's kick (spec 2.7.13: spurious ones are harmless): it serves the port in
// both directions, and a broken queue it finds there takes the transport's DEVICE_NEEDS_RESET path.
class BackendWaker {
 public:
  virtual ~BackendWaker() = default;
  virtual void wake() noexcept = 0;
};

}  // namespace tilehv::vdevices
