// BufferBackend: an in-process console port backend: two bounded byte queues, one towards the guest
// and one from it, with the host side's calls safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>

#include "console/byte_ring.hpp"
#include "console/console_port_backend.hpp"

namespace tilehv::vdevices {

class BufferBackend final : public ConsolePortBackend {
 public:
  // `capacity` bytes each way (at least 1). `waker` (optional, must outlive the backend) is woken after
  // the host side added bytes for the guest or took bytes the guest wrote, never from read()/write().
  explicit BufferBackend(std::size_t capacity, BackendWaker* waker = nullptr);

  // Device side (ConsolePortBackend).
  std::size_t read(std::span<std::uint8_t> out) noexcept override;
  std::size_t write(std::span<const std::uint8_t> bytes) noexcept override;

  // Host side: queues bytes for the guest and returns how many fit.
  std::size_t send(std::span<const std::uint8_t> bytes) noexcept;
  std::size_t send(const std::string& text) noexcept;
  // Host side: takes up to `out.size()` bytes the guest wrote.
  std::size_t receive(std::span<std::uint8_t> out) noexcept;
  // Host side: takes everything the guest wrote so far.
  [[nodiscard]] std::string receive_all();

  [[nodiscard]] std::size_t pending_to_guest() const;
  [[nodiscard]] std::size_t pending_from_guest() const;

 private:
  void wake() const noexcept;

  mutable std::mutex mutex_;
  console::ByteRing to_guest_;
  console::ByteRing from_guest_;
  BackendWaker* waker_;
};

}  // namespace tilehv::vdevices
