// Uart16550: a 16550A serial port (the console of every partition), polled or interrupt-driven.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>

#include "core/bus_device.hpp"
#include "core/device_state.hpp"
#include "core/interrupt_line.hpp"
#include "serial/console_sink.hpp"

namespace tilehv::vdevices {

struct UartMetrics {
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> input_dropped{0};  // input offered while the receive FIFO was full
};

class Uart16550 final : public PioDevice, public Snapshottable {
 public:
  static constexpr std::uint16_t kRegisterCount = 8;
  // The 16550A has a 16-byte FIFO; a deeper one lets the host hand over pasted input in fewer
  // rounds while still bounding memory.
  static constexpr std::size_t kRxFifoCapacity = 64;

  Uart16550(ConsoleSink& sink, InterruptLine& irq) : sink_(sink), irq_(irq) {}

  void pio_read(std::uint16_t offset, std::span<std::uint8_t> data) noexcept override;
  void pio_write(std::uint16_t offset, std::span<const std::uint8_t> data) noexcept override;
  void pio_write_string(std::uint16_t offset, std::uint8_t element_size,
                        std::span<const std::uint8_t> data) noexcept override;

  // Host-side input for the guest; returns how many bytes fit in the receive FIFO.
  std::size_t enqueue_input(std::span<const std::uint8_t> bytes) noexcept;

  [[nodiscard]] DeviceState save_state() const override;
  [[nodiscard]] tl::expected<void, StateError> restore_state(const DeviceState& state) override;

  [[nodiscard]] const UartMetrics& metrics() const noexcept { return metrics_; }

 private:
  std::uint8_t read_register(std::uint16_t offset) noexcept;
  void write_register(std::uint16_t offset, std::uint8_t value) noexcept;
  void transmit(std::span<const std::uint8_t> bytes) noexcept;
  [[nodiscard]] std::uint8_t interrupt_identification() const noexcept;
  void update_interrupt() noexcept;
  [[nodiscard]] bool dlab() const noexcept { return (lcr_ & 0x80) != 0; }
  [[nodiscard]] bool loopback() const noexcept { return (mcr_ & 0x10) != 0; }

  ConsoleSink& sink_;
  InterruptLine& irq_;
  mutable std::mutex mutex_;
  std::deque<std::uint8_t> rx_fifo_;
  std::uint8_t ier_ = 0;
  std::uint8_t lcr_ = 0x03;  // 8N1, the state firmware leaves
  std::uint8_t mcr_ = 0x08;  // OUT2: the interrupt gate PC firmware opens
  std::uint8_t fcr_ = 0;
  std::uint8_t scr_ = 0;
  std::uint8_t dll_ = 0x0c;  // 9600 baud
  std::uint8_t dlm_ = 0;
  bool thr_empty_pending_ = false;  // a THR-empty interrupt not yet acknowledged by reading IIR
  UartMetrics metrics_;
};

}  // namespace tilehv::vdevices
