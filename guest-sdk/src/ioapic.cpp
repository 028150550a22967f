// IOAPIC: the I/O APIC at 0xfec00000 (QEMU microvm and tilehv), which turns device interrupt pins into
// LAPIC interrupts through its redirection entries (82093AA datasheet, section 3.2.4).
#include <guest/ioapic.hpp>

#include <guest/spinlock.hpp>

namespace guest::ioapic {
namespace {

// Indirect register access: IOREGSEL selects, IOWIN reads or writes the selected register.
constexpr uint32_t reg_select = 0x00, reg_window = 0x10;
constexpr uint32_t index_version = 0x01, index_redirection = 0x10;
constexpr uint32_t entry_level = 1u << 15, entry_active_low = 1u << 13, entry_masked = 1u << 16;

// The select/window pair is one shared register file: two CPUs interleaving select and window
// accesses would read or write the wrong register.
TicketLock lock;

// SAFETY: the IOAPIC page lies in the uncached 3-4 GiB part of the boot identity map.
volatile uint32_t* reg(uint32_t offset) { return reinterpret_cast<volatile uint32_t*>(default_base + offset); }

uint32_t read_locked(uint32_t index) {
  *reg(reg_select) = index;
  return *reg(reg_window);
}

void write_locked(uint32_t index, uint32_t value) {
  *reg(reg_select) = index;
  *reg(reg_window) = value;
}

uint32_t pins_locked() {
  const uint32_t version = read_locked(index_version);
  if (version == 0xffffffff) return 0;
  return ((version >> 16) & 0xff) + 1;  // bits 16..23 hold the highest entry's index
}

}  // namespace

uint32_t pin_count() {
  LockGuard guard(lock);
  return pins_locked();
}

bool route(uint32_t pin, uint8_t vector, uint32_t apic_id, Trigger trigger, Polarity polarity) {
  if (vector < 0x10 || apic_id > 0xff) return false;
  LockGuard guard(lock);
  if (pin >= pins_locked()) return false;
  const uint32_t low_index = index_redirection + 2 * pin;
  uint32_t low = vector;
  if (trigger == Trigger::level) low |= entry_level;
  if (polarity == Polarity::active_low) low |= entry_active_low;
  // Masked while the destination changes, so no interrupt goes out with half an entry written.
  write_locked(low_index, entry_masked);
  write_locked(low_index + 1, apic_id << 24);
  write_locked(low_index, low);
  return true;
}

void mask(uint32_t pin) {
  LockGuard guard(lock);
  if (pin >= pins_locked()) return;
  const uint32_t low_index = index_redirection + 2 * pin;
  write_locked(low_index, read_locked(low_index) | entry_masked);
}

uint64_t redirection_entry(uint32_t pin) {
  LockGuard guard(lock);
  if (pin >= pins_locked()) return 0;
  const uint32_t low_index = index_redirection + 2 * pin;
  return read_locked(low_index) | (uint64_t{read_locked(low_index + 1)} << 32);
}

}  // namespace guest::ioapic
