// Interrupts: the shared IDT, the saved register frame and per-vector handlers.
#include <guest/interrupts.hpp>

#include <guest/boot_layout.h>
#include <guest/lapic.hpp>

extern "C" const uint64_t interrupt_stub_table[256];

namespace guest::interrupts {
namespace {

struct [[gnu::packed]] IdtEntry {
  uint16_t offset_low;
  uint16_t selector;
  uint8_t ist;
  uint8_t type_attributes;
  uint16_t offset_mid;
  uint32_t offset_high;
  uint32_t reserved;
};
static_assert(sizeof(IdtEntry) == 16);

struct [[gnu::packed]] IdtPointer {
  uint16_t limit;
  uint64_t base;
};

// The IDT and the handler table are machine-wide state by nature: every CPU loads the same table.
alignas(16) IdtEntry idt[256];
Handler handlers[256];

constexpr uint8_t interrupt_gate_present = 0x8e;
constexpr uint8_t vector_nmi = 2, vector_double_fault = 8, vector_machine_check = 18;

void install_gate(unsigned v) {
  const uint64_t address = interrupt_stub_table[v];
  const bool own_stack = v == vector_nmi || v == vector_double_fault || v == vector_machine_check;
  idt[v] = IdtEntry{static_cast<uint16_t>(address), GUEST_CODE64_SELECTOR, static_cast<uint8_t>(own_stack ? 1 : 0),
                    interrupt_gate_present, static_cast<uint16_t>(address >> 16),
                    static_cast<uint32_t>(address >> 32), 0};
}

}  // namespace

// Gates for the 32 exception vectors and the SDK's own vectors (wakeup IPI, LAPIC timer, spurious),
// which it delivers without a registered handler; every other vector gets its gate
// when a handler is set. An interrupt on a vector nobody asked for then raises #NP, which is reported
// like any exception. Filling all 256 gates up front cost milliseconds where instructions are emulated.
void init() {
  for (unsigned v = 0; v < 32; ++v) install_gate(v);
  install_gate(wakeup_vector);
  install_gate(timer_vector);
  install_gate(spurious_vector);
}

void load() {
  const IdtPointer pointer{sizeof(idt) - 1, reinterpret_cast<uintptr_t>(&idt[0])};
  asm volatile("lidt %0" ::"m"(pointer) : "memory");
}

void set_handler(uint8_t vector, Handler handler) {
  __atomic_store_n(&handlers[vector], handler, __ATOMIC_RELEASE);
  // The gate goes in after the handler, so a delivered interrupt always finds one. Writing a gate
  // that is already present rewrites the same bytes.
  if (vector >= 32) install_gate(vector);
}

extern "C" void interrupt_dispatch(Frame* frame) {
  const uint64_t vector = frame->vector & 0xff;
  const Handler handler = __atomic_load_n(&handlers[vector], __ATOMIC_ACQUIRE);
  if (vector < 32) {
    if (handler == nullptr) report_exception(*frame);
    handler(*frame);
    return;
  }
  if (handler != nullptr) handler(*frame);
  // A spurious interrupt is not in service, so it must not be acknowledged.
  if (vector != spurious_vector) lapic::eoi();
}

}  // namespace guest::interrupts
