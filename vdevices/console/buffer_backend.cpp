// BufferBackend: an in-process console port backend: two bounded byte queues, one towards the guest
// and one from it, with the host side's calls safe from any thread.
#include "console/buffer_backend.hpp"

#include <algorithm>

namespace tilehv::vdevices {

BufferBackend::BufferBackend(std::size_t capacity, BackendWaker* waker)
    : to_guest_(std::max<std::size_t>(capacity, 1)), from_guest_(std::max<std::size_t>(capacity, 1)), waker_(waker) {}

std::size_t BufferBackend::read(std::span<std::uint8_t> out) noexcept {
  std::lock_guard lock(mutex_);
  return to_guest_.pop(out);
}

std::size_t BufferBackend::write(std::span<const std::uint8_t> bytes) noexcept {
  std::lock_guard lock(mutex_);
  return from_guest_.push(bytes);
}

std::size_t BufferBackend::send(std::span<const std::uint8_t> bytes) noexcept {
  std::size_t n = 0;
  {
    std::lock_guard lock(mutex_);
    n = to_guest_.push(bytes);
  }
  // After the lock: the waker may end up in the device, which calls read() and takes it again.
  if (n > 0) wake();
  return n;
}

std::size_t BufferBackend::send(const std::string& text) noexcept {
  // SAFETY: reinterpreting char storage as bytes; std::uint8_t may alias any object.
  return send(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::size_t BufferBackend::receive(std::span<std::uint8_t> out) noexcept {
  std::size_t n = 0;
  {
    std::lock_guard lock(mutex_);
    n = from_guest_.pop(out);
  }
  // Room appeared: a transmit chain the device parked on a full backend can move on.
  if (n > 0) wake();
  return n;
}

std::string BufferBackend::receive_all() {
  std::string out;
  std::uint8_t chunk[4096];
  for (std::size_t n; (n = receive(chunk)) > 0;) out.append(chunk, chunk + n);
  return out;
}

std::size_t BufferBackend::pending_to_guest() const {
  std::lock_guard lock(mutex_);
  return to_guest_.size();
}

std::size_t BufferBackend::pending_from_guest() const {
  std::lock_guard lock(mutex_);
  return from_guest_.size();
}

void BufferBackend::wake() const noexcept {
  if (waker_ != nullptr) waker_->wake();
}

}  // namespace tilehv::vdevices
