// Serving a device's queues: the work runs under the device's lock, and the driver is signalled only
// after the lock is released (VirtioDevice's lock rule, kept in one place).
#pragma once

#include <mutex>
#include <new>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "virtio/virtio_device.hpp"

namespace tilehv::vdevices::virtio {

// `work` returns the interrupt to raise (nullptr: none) or what the guest broke.
template <typename Work>
[[nodiscard]] tl::expected<void, std::string> serve_then_signal(std::mutex& mutex, std::string_view device,
                                                                Work&& work) noexcept {
  VirtioInterrupt* signal = nullptr;
  try {
    std::lock_guard lock(mutex);
    tl::expected<VirtioInterrupt*, std::string> result = work();
    if (!result) return tl::unexpected(std::move(result.error()));
    signal = *result;
  } catch (const std::bad_alloc&) {
    return tl::unexpected(std::string(device) + ": out of memory");
  }
  // The transport takes its own lock to raise the interrupt, and holds it while it resets the device.
  if (signal != nullptr) signal->used_buffers();
  return {};
}

// A transmit and a receive pass, as a notification asks: whether the driver wants an interrupt.
template <typename Transmit, typename Receive>
[[nodiscard]] tl::expected<bool, std::string> transmit_and_receive(bool tx, bool rx, Transmit&& transmit, Receive&& receive) {
  bool wanted = false;
  if (tx) {
    auto t = transmit();
    if (!t) return tl::unexpected(t.error());
    wanted = *t;
  }
  if (rx) {
    auto r = receive();
    if (!r) return tl::unexpected(r.error());
    wanted = wanted || *r;
  }
  return wanted;
}

}  // namespace tilehv::vdevices::virtio
