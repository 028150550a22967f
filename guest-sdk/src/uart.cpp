// UART: the polled 16550 at COM1 that carries the console.
#include <guest/uart.hpp>

#include <guest/cpu.hpp>

namespace guest::uart {
namespace {
constexpr uint16_t com1 = 0x3f8;
constexpr uint16_t reg_data = 0, reg_ier = 1, reg_fcr = 2, reg_lcr = 3, reg_mcr = 4, reg_lsr = 5;
constexpr uint8_t lsr_thre = 0x20;
constexpr uint8_t lcr_dlab = 0x80, lcr_8n1 = 0x03;
// Bounds the wait for an empty transmitter: a device that never reports it must not hang the guest,
// and writing anyway loses at most output, never correctness.
constexpr unsigned max_thre_polls = 100000;
}  // namespace

void init() {
  cpu::outb(com1 + reg_ier, 0);
  cpu::outb(com1 + reg_lcr, lcr_dlab);
  cpu::outb(com1 + reg_data, 1);  // divisor 1: 115200 baud
  cpu::outb(com1 + reg_ier, 0);
  cpu::outb(com1 + reg_lcr, lcr_8n1);
  cpu::outb(com1 + reg_fcr, 0);
  cpu::outb(com1 + reg_mcr, 0x03);  // DTR | RTS
}

void write(const char* data, size_t size) {
  if (size == 0) return;
  for (unsigned polls = 0; polls < max_thre_polls; ++polls) {
    if ((cpu::inb(com1 + reg_lsr) & lsr_thre) != 0) break;
    cpu::pause();
  }
  cpu::outsb(com1 + reg_data, data, size);
}

}  // namespace guest::uart
