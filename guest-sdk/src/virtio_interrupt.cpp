// Virtio device interrupts: a virtio-mmio device's IOAPIC pin routed to a vector on the CPU that
// drives it, so the driver can halt until the device signals instead of spinning.
#include <guest/virtio_interrupt.hpp>

#include <cstddef>

#include <guest/interrupts.hpp>
#include <guest/ioapic.hpp>
#include <guest/lapic.hpp>

namespace guest::virtio {
namespace {

// Which DeviceInterrupt owns each SDK device vector. IDT handlers carry no context, so this table is
// their context: machine-wide by nature, like the IDT itself.
std::atomic<DeviceInterrupt*> owners[interrupts::device_vector_count];

template <size_t Slot>
void on_device_vector(interrupts::Frame&) {
  DeviceInterrupt* owner = owners[Slot].load(std::memory_order_acquire);
  if (owner != nullptr) owner->service();
}

constexpr interrupts::Handler slot_handlers[] = {on_device_vector<0>, on_device_vector<1>, on_device_vector<2>,
                                                 on_device_vector<3>, on_device_vector<4>, on_device_vector<5>,
                                                 on_device_vector<6>, on_device_vector<7>};
static_assert(sizeof slot_handlers / sizeof slot_handlers[0] == interrupts::device_vector_count);

// No hlt lasts longer than this, however far the deadline: a device interrupt that never arrives (a
// misrouted pin, a VMM that drops it) then costs a wait at most this much instead of the whole
// deadline. It also keeps the LAPIC timer's 32-bit count in range at any plausible bus rate.
constexpr uint64_t max_timer_slice_ns = 10'000'000;

}  // namespace

bool DeviceInterrupt::enable(const MmioDeviceInfo& info) {
  if (enabled()) return true;
  size_t slot = 0;
  for (; slot < interrupts::device_vector_count; ++slot) {
    DeviceInterrupt* expected = nullptr;
    if (owners[slot].compare_exchange_strong(expected, this, std::memory_order_acq_rel)) break;
  }
  if (slot == interrupts::device_vector_count) return false;
  const auto vector = static_cast<uint8_t>(interrupts::first_device_vector + slot);
  base_ = info.base;
  pin_ = info.irq;
  // The handler before the route: a line that is already asserted is delivered at once.
  interrupts::set_handler(vector, slot_handlers[slot]);
  if (!ioapic::route(pin_, vector, lapic::id(), ioapic::Trigger::level, ioapic::Polarity::active_high)) {
    interrupts::set_handler(vector, nullptr);
    owners[slot].store(nullptr, std::memory_order_release);
    return false;
  }
  vector_ = vector;
  return true;
}

void DeviceInterrupt::disable() {
  if (!enabled()) return;
  ioapic::mask(pin_);
  const size_t slot = static_cast<size_t>(vector_ - interrupts::first_device_vector);
  interrupts::set_handler(vector_, nullptr);
  owners[slot].store(nullptr, std::memory_order_release);
  vector_ = 0;
}

void DeviceInterrupt::service() {
  MmioDeviceInfo info{base_, 0, pin_};
  MmioDevice(info).acknowledge_interrupt();
  count_.fetch_add(1, std::memory_order_relaxed);
}

bool DeviceInterrupt::halt(const time::Deadline& deadline) {
  const uint64_t remaining = deadline.remaining_ns();
  if (remaining == 0) return false;
  lapic::timer_one_shot(remaining < max_timer_slice_ns ? remaining : max_timer_slice_ns, interrupts::timer_vector);
  cpu::enable_interrupts_and_halt();
  return true;
}

void DeviceInterrupt::finish_halts(const time::Deadline& deadline) {
  if (!deadline.expired()) lapic::timer_stop();
}

}  // namespace guest::virtio
