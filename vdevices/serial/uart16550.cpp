// Uart16550: a 16550A serial port (the console of every partition), polled or interrupt-driven.
#include "serial/uart16550.hpp"

namespace tilehv::vdevices {
namespace {

enum Register : std::uint16_t { kData = 0, kIer = 1, kIirFcr = 2, kLcr = 3, kMcr = 4, kLsr = 5, kMsr = 6, kScr = 7 };

constexpr std::uint8_t kIerRxAvailable = 0x01;
constexpr std::uint8_t kIerThrEmpty = 0x02;
constexpr std::uint8_t kIirNone = 0x01;
constexpr std::uint8_t kIirThrEmpty = 0x02;
constexpr std::uint8_t kIirRxAvailable = 0x04;
constexpr std::uint8_t kIirFifoEnabled = 0xc0;
constexpr std::uint8_t kFcrEnable = 0x01;
constexpr std::uint8_t kFcrClearRx = 0x02;
constexpr std::uint8_t kLsrDataReady = 0x01;
constexpr std::uint8_t kLsrThrEmpty = 0x20;
constexpr std::uint8_t kLsrIdle = 0x40;
constexpr std::uint8_t kMcrOut2 = 0x08;
// Carrier, data set ready and clear to send: a terminal is always attached.
constexpr std::uint8_t kMsrConnected = 0xb0;

constexpr const char* kStateKind = "uart16550";
constexpr std::uint16_t kStateVersion = 1;

}  // namespace

void Uart16550::pio_read(std::uint16_t offset, std::span<std::uint8_t> data) noexcept {
  std::lock_guard lock(mutex_);
  // A wider access reads consecutive registers, as the ISA bus splits it into byte cycles.
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = read_register(static_cast<std::uint16_t>(offset + i));
  }
  update_interrupt();
}

void Uart16550::pio_write(std::uint16_t offset, std::span<const std::uint8_t> data) noexcept {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < data.size(); ++i) {
    write_register(static_cast<std::uint16_t>(offset + i), data[i]);
  }
  update_interrupt();
}

void Uart16550::pio_write_string(std::uint16_t offset, std::uint8_t element_size,
                                 std::span<const std::uint8_t> data) noexcept {
  if (element_size == 0) return;  // KVM reports 1, 2 or 4; anything else would never advance
  std::lock_guard lock(mutex_);
  if (offset == kData && element_size == 1 && !dlab() && !loopback()) {
    // rep outsb to THR: the whole burst in one sink write. The transmitter is never busy, so
    // nothing a real UART would have dropped is lost.
    transmit(data);
    thr_empty_pending_ = true;
  } else {
    for (std::size_t i = 0; i + element_size <= data.size(); i += element_size) {
      for (std::size_t b = 0; b < element_size; ++b) {
        write_register(static_cast<std::uint16_t>(offset + b), data[i + b]);
      }
    }
  }
  update_interrupt();
}

std::size_t Uart16550::enqueue_input(std::span<const std::uint8_t> bytes) noexcept {
  std::lock_guard lock(mutex_);
  std::size_t taken = 0;
  while (taken < bytes.size() && rx_fifo_.size() < kRxFifoCapacity) {
    rx_fifo_.push_back(bytes[taken++]);
  }
  metrics_.bytes_in.fetch_add(taken, std::memory_order_relaxed);
  metrics_.input_dropped.fetch_add(bytes.size() - taken, std::memory_order_relaxed);
  update_interrupt();
  return taken;
}

std::uint8_t Uart16550::read_register(std::uint16_t offset) noexcept {
  switch (offset) {
    case kData: {
      if (dlab()) return dll_;
      if (rx_fifo_.empty()) return 0;
      const std::uint8_t b = rx_fifo_.front();
      rx_fifo_.pop_front();
      return b;
    }
    case kIer:
      return dlab() ? dlm_ : ier_;
    case kIirFcr: {
      const std::uint8_t iir = interrupt_identification();
      // Reading IIR acknowledges a THR-empty interrupt (16550 datasheet, interrupt reset control).
      if (iir == kIirThrEmpty) thr_empty_pending_ = false;
      return static_cast<std::uint8_t>(iir | ((fcr_ & kFcrEnable) != 0 ? kIirFifoEnabled : 0));
    }
    case kLcr:
      return lcr_;
    case kMcr:
      return mcr_;
    case kLsr:
      return static_cast<std::uint8_t>((rx_fifo_.empty() ? 0 : kLsrDataReady) | kLsrThrEmpty | kLsrIdle);
    case kMsr:
      if (loopback()) {
        // Loopback wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
        return static_cast<std::uint8_t>(((mcr_ & 0x02) << 3) | ((mcr_ & 0x01) << 5) | ((mcr_ & 0x04) << 4) |
                                         ((mcr_ & 0x08) << 4));
      }
      return kMsrConnected;
    case kScr:
      return scr_;
    default:
      return 0xff;  // beyond the eight registers: open bus
  }
}

void Uart16550::write_register(std::uint16_t offset, std::uint8_t value) noexcept {
  switch (offset) {
    case kData:
      if (dlab()) {
        dll_ = value;
      } else if (loopback()) {
        if (rx_fifo_.size() < kRxFifoCapacity) {
          rx_fifo_.push_back(value);
        } else {
          metrics_.input_dropped.fetch_add(1, std::memory_order_relaxed);
        }
        thr_empty_pending_ = true;
      } else {
        transmit({&value, 1});
        thr_empty_pending_ = true;
      }
      break;
    case kIer:
      if (dlab()) {
        dlm_ = value;
      } else {
        const bool was_enabled = (ier_ & kIerThrEmpty) != 0;
        ier_ = value & 0x0f;
        // Enabling the THR-empty interrupt while THR is empty raises it at once.
        if (!was_enabled && (ier_ & kIerThrEmpty) != 0) thr_empty_pending_ = true;
      }
      break;
    case kIirFcr:
      fcr_ = value;
      if ((value & kFcrClearRx) != 0) rx_fifo_.clear();
      break;
    case kLcr:
      lcr_ = value;
      break;
    case kMcr:
      mcr_ = value & 0x1f;
      break;
    case kScr:
      scr_ = value;
      break;
    default:
      break;  // LSR and MSR are read-only; beyond the registers nothing answers
  }
}

void Uart16550::transmit(std::span<const std::uint8_t> bytes) noexcept {
  metrics_.bytes_out.fetch_add(bytes.size(), std::memory_order_relaxed);
  sink_.write(bytes);
}

std::uint8_t Uart16550::interrupt_identification() const noexcept {
  if ((ier_ & kIerRxAvailable) != 0 && !rx_fifo_.empty()) return kIirRxAvailable;
  if ((ier_ & kIerThrEmpty) != 0 && thr_empty_pending_) return kIirThrEmpty;
  return kIirNone;
}

void Uart16550::update_interrupt() noexcept {
  irq_.set_level(interrupt_identification() != kIirNone && (mcr_ & kMcrOut2) != 0);
}

DeviceState Uart16550::save_state() const {
  std::lock_guard lock(mutex_);
  StateWriter w;
  w.u8(ier_), w.u8(lcr_), w.u8(mcr_), w.u8(fcr_), w.u8(scr_), w.u8(dll_), w.u8(dlm_);
  w.boolean(thr_empty_pending_);
  const std::vector<std::uint8_t> rx(rx_fifo_.begin(), rx_fifo_.end());
  w.blob(rx);
  return DeviceState{kStateKind, kStateVersion, w.take()};
}

tl::expected<void, StateError> Uart16550::restore_state(const DeviceState& state) {
  if (auto ok = check_state_header(state, kStateKind, kStateVersion); !ok) return ok;
  StateReader r(state.payload);
  std::array<std::uint8_t, 7> regs{};
  for (auto& reg : regs) {
    auto v = r.u8();
    if (!v) return tl::unexpected(v.error());
    reg = *v;
  }
  auto pending = r.boolean();
  if (!pending) return tl::unexpected(pending.error());
  auto rx = r.blob(kRxFifoCapacity);
  if (!rx) return tl::unexpected(rx.error());
  if (!r.at_end()) return tl::unexpected(StateError{"uart16550 state has trailing bytes"});
  // Decoded completely before anything changes: a bad state leaves the device as it was.
  std::lock_guard lock(mutex_);
  ier_ = regs[0] & 0x0f, lcr_ = regs[1], mcr_ = regs[2] & 0x1f, fcr_ = regs[3], scr_ = regs[4];
  dll_ = regs[5], dlm_ = regs[6];
  thr_empty_pending_ = *pending;
  rx_fifo_.assign(rx->begin(), rx->end());
  update_interrupt();
  return {};
}

}  // namespace tilehv::vdevices
