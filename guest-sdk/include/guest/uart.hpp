// UART: the polled 16550 at COM1 that carries the console.
#pragma once

#include <cstddef>

namespace guest::uart {

// 115200 8N1, FIFO and interrupts off.
void init();

// Sends size bytes with one rep outsb after checking the transmitter once: with the FIFO off QEMU's
// 16550 (and tilehv's) transmits every THR write synchronously, so no per-byte LSR poll is needed.
void write(const char* data, size_t size);

}  // namespace guest::uart
