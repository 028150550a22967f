// SinkBackend: an output-only console port backend that hands the guest's bytes to a ConsoleSink
// (stdout, a size-capped file, a ring), as the UART does with its output.
#pragma once

#include "console/console_port_backend.hpp"
#include "serial/console_sink.hpp"

namespace tilehv::vdevices {

class SinkBackend final : public ConsolePortBackend {
 public:
  // `sink` must outlive the backend.
  explicit SinkBackend(ConsoleSink& sink) : sink_(sink) {}

  // Nothing ever flows towards the guest.
  std::size_t read(std::span<std::uint8_t>) noexcept override { return 0; }
  // A sink never refuses (it drops and counts what it cannot keep), so there is no back-pressure.
  std::size_t write(std::span<const std::uint8_t> bytes) noexcept override {
    sink_.write(bytes);
    return bytes.size();
  }

 private:
  ConsoleSink& sink_;
};

}  // namespace tilehv::vdevices
