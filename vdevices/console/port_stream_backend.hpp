// PortStreamBackend: a console port's byte streams through an I/O-plane port, chunks of bytes as
// messages. The plane serves the other end: a sensor's line stream, a service of the tile.
#pragma once

#include <string>
#include <vector>

#include "console/console_port_backend.hpp"
#include "port/port_endpoint.hpp"

namespace tilehv::vdevices {

class PortStreamBackend final : public ConsolePortBackend {
 public:
  PortStreamBackend(port::PortEndpoint endpoint, std::string name);

  std::size_t read(std::span<std::uint8_t> out) noexcept override;
  std::size_t write(std::span<const std::uint8_t> bytes) noexcept override;

  [[nodiscard]] int wake_fd() const noexcept { return endpoint_.wake_fd(); }
  [[nodiscard]] bool broken() const noexcept { return broken_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  void fail(const std::string& what) noexcept;

  port::PortEndpoint endpoint_;
  std::string name_;
  // A message taken from the port that the guest's buffer could not hold at once.
  std::vector<std::uint8_t> pending_;
  std::size_t pending_offset_ = 0;
  std::size_t pending_size_ = 0;
  bool broken_ = false;
};

}  // namespace tilehv::vdevices
