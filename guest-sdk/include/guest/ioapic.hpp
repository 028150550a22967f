// IOAPIC: the I/O APIC at 0xfec00000 (QEMU microvm and tilehv), which turns device interrupt pins into
// LAPIC interrupts through its redirection entries (82093AA datasheet, section 3.2.4).
#pragma once

#include <cstdint>

namespace guest::ioapic {

inline constexpr uint64_t default_base = 0xfec00000;

enum class Trigger : uint8_t { edge, level };
enum class Polarity : uint8_t { active_high, active_low };

// The number of redirection entries (pins) of the IOAPIC at default_base; 0 when nothing answers
// there (an absent device reads as all ones).
uint32_t pin_count();

// Routes pin to vector on the LAPIC with apic_id (physical destination, fixed delivery) and unmasks it.
// False if the pin does not exist or the vector is below 0x10 (reserved by the architecture).
bool route(uint32_t pin, uint8_t vector, uint32_t apic_id, Trigger trigger, Polarity polarity);

// Masks pin: its interrupts are held back until it is routed again.
void mask(uint32_t pin);

// The raw 64-bit redirection entry (for diagnostics); 0 for a pin that does not exist.
uint64_t redirection_entry(uint32_t pin);

}  // namespace guest::ioapic
