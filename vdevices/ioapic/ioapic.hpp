// Ioapic: the 82093AA I/O APIC in userspace, the other half of KVM's split irqchip. Devices drive its
// 24 pins; it turns each into the MSI its redirection entry describes, and re-delivers a level-triggered
// pin still asserted when the guest's EOI comes back (KVM_EXIT_IOAPIC_EOI).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>

#include "core/bus_device.hpp"
#include "core/device_state.hpp"
#include "core/interrupt_line.hpp"
#include "ioapic/msi_sender.hpp"

namespace tilehv::vdevices {

struct IoapicMetrics {
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> masked{0};        // assertions held back by a masked entry
  std::atomic<std::uint64_t> send_failures{0};
};

class Ioapic final : public MmioDevice, public Snapshottable {
 public:
  static constexpr std::uint64_t kBaseAddress = 0xfec0'0000;
  static constexpr std::uint64_t kWindowSize = 0x1000;
  static constexpr std::uint32_t kPins = 24;

  explicit Ioapic(MsiSender& sender);

  void mmio_read(std::uint64_t offset, std::span<std::uint8_t> data) noexcept override;
  void mmio_write(std::uint64_t offset, std::span<const std::uint8_t> data) noexcept override;

  // A device's line on `pin` changed. Out-of-range pins are ignored.
  void set_pin(std::uint32_t pin, bool asserted) noexcept;
  // The guest's LAPIC signalled EOI for `vector` (split irqchip exit).
  void end_of_interrupt(std::uint8_t vector) noexcept;

  // An InterruptLine bound to one pin, for a device that knows nothing of the IOAPIC.
  class Pin final : public InterruptLine {
   public:
    Pin(Ioapic& ioapic, std::uint32_t pin) : ioapic_(ioapic), pin_(pin) {}
    void set_level(bool asserted) noexcept override { ioapic_.set_pin(pin_, asserted); }

   private:
    Ioapic& ioapic_;
    std::uint32_t pin_;
  };

  [[nodiscard]] std::uint64_t redirection_entry(std::uint32_t pin) const;
  [[nodiscard]] const IoapicMetrics& metrics() const noexcept { return metrics_; }

  [[nodiscard]] DeviceState save_state() const override;
  [[nodiscard]] tl::expected<void, StateError> restore_state(const DeviceState& state) override;

 private:
  void service(std::uint32_t pin);  // caller holds mutex_
  [[nodiscard]] std::uint32_t read_window() const;
  void write_window(std::uint32_t value);

  [[nodiscard]] static MsiMessage message_for(std::uint64_t entry);
  MsiSender& sender_;
  mutable std::mutex mutex_;
  std::uint32_t select_ = 0;
  std::uint32_t id_ = 0;
  std::array<std::uint64_t, kPins> entries_{};
  std::array<bool, kPins> level_{};  // the line as the device drives it
  IoapicMetrics metrics_;
};

}  // namespace tilehv::vdevices
