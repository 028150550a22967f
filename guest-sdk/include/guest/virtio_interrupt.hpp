// Virtio device interrupts: a virtio-mmio device's IOAPIC pin routed to a vector on the CPU that
// drives it, so the driver can halt until the device signals instead of spinning; polling where that
// is impossible.
//
// virtio-mmio raises its line while InterruptStatus is nonzero (spec 4.2.2), so the pin is routed
// level-triggered, active high: the vector's handler acknowledges InterruptStatus through
// InterruptACK, which lowers the line, and the interrupt entry path then sends the LAPIC EOI, which
// lets the IOAPIC deliver again. An event that arrives in between keeps the line up and is delivered
// after the EOI, so none is lost.
#pragma once

#include <atomic>
#include <cstdint>

#include <guest/cpu.hpp>
#include <guest/time.hpp>
#include <guest/virtio_mmio.hpp>

namespace guest::virtio {

class DeviceInterrupt {
 public:
  DeviceInterrupt() = default;
  DeviceInterrupt(const DeviceInterrupt&) = delete;
  DeviceInterrupt& operator=(const DeviceInterrupt&) = delete;

  // Routes the device's pin (info.irq) to one of the SDK's device vectors on the calling CPU. False,
  // and wait_until() polls, when no IOAPIC answers, it has no such pin, or all device vectors are
  // taken.
  bool enable(const MmioDeviceInfo& info);
  // Masks the pin and gives the vector back; wait_until() polls from then on.
  void disable();

  [[nodiscard]] bool enabled() const { return vector_ != 0; }
  [[nodiscard]] uint8_t vector() const { return vector_; }
  // Interrupts taken so far.
  [[nodiscard]] uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // How long wait_until() polls before it halts: waking from hlt costs several VM exits, so a reply
  // that comes within microseconds is cheaper to catch by spinning. Default 20 us.
  void set_spin_ns(uint64_t ns) { spin_ns_ = ns; }

  // Returns true as soon as ready() holds, false once the deadline passed. It polls for the spin
  // time, then halts with interrupts enabled until the device or the LAPIC timer interrupts; the
  // timer (this CPU's, on the SDK's timer vector) is armed for the deadline but at most 10 ms ahead,
  // so a lost device interrupt delays a wait by no more than that. ready() is always evaluated with
  // interrupts off right before hlt, and sti;hlt is atomic, so an interrupt after the check still
  // ends the hlt. Without a routed interrupt it polls until the deadline. The caller's interrupt flag
  // is restored.
  template <typename Ready>
  bool wait_until(Ready&& ready, const time::Deadline& deadline) {
    const time::Deadline spin_end = time::Deadline::after_ns(spin_ns_);
    for (;;) {
      if (ready()) return true;
      if (deadline.expired()) return false;
      if (enabled() && spin_end.expired()) break;
      cpu::pause();
    }
    const bool interrupts_were_on = cpu::interrupts_enabled();
    bool timer_armed = false;
    bool result = false;
    for (;;) {
      cpu::disable_interrupts();
      if (ready()) {
        result = true;
        break;
      }
      if (!halt(deadline)) break;
      timer_armed = true;
    }
    if (timer_armed) finish_halts(deadline);
    if (interrupts_were_on) cpu::enable_interrupts();
    return result;
  }

  // Called by the vector's handler: acknowledges everything InterruptStatus reports.
  void service();

 private:
  // Arms the LAPIC timer for the rest of the wait, then sti;hlt. False (without halting) once the
  // deadline passed. Re-arming before every hlt means a timer that fired early, or one that someone
  // else's wait stopped, can never leave this CPU halted past its deadline.
  static bool halt(const time::Deadline& deadline);
  // Stops a timer that has not fired yet, so it cannot cut short a later hlt.
  static void finish_halts(const time::Deadline& deadline);

  uint64_t base_ = 0;
  uint32_t pin_ = 0;
  uint8_t vector_ = 0;
  uint64_t spin_ns_ = 20'000;
  std::atomic<uint64_t> count_{0};
};

}  // namespace guest::virtio
