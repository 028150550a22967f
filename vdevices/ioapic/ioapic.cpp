// Ioapic: the 82093AA I/O APIC in userspace, the other half of KVM's split irqchip. Devices drive its
// 24 pins; it turns each into the MSI its redirection entry describes, and re-delivers a level-triggered
// pin still asserted when the guest's EOI comes back (KVM_EXIT_IOAPIC_EOI).
#include "ioapic/ioapic.hpp"

#include <cstring>

namespace tilehv::vdevices {
namespace {

// 82093AA datasheet: IOREGSEL at 0x00, IOWIN at 0x10; the 0x20 version adds an EOI register at 0x40.
constexpr std::uint64_t kRegSelect = 0x00;
constexpr std::uint64_t kRegWindow = 0x10;
constexpr std::uint64_t kRegEoi = 0x40;
constexpr std::uint32_t kIndexId = 0x00, kIndexVersion = 0x01, kIndexArbitration = 0x02, kIndexRedirection = 0x10;
constexpr std::uint32_t kVersion = 0x20 | ((Ioapic::kPins - 1) << 16);

// Redirection entry fields.
constexpr std::uint64_t kVectorMask = 0xff;
constexpr std::uint64_t kDeliveryModeMask = 0x700;
constexpr std::uint64_t kDestinationLogical = 1ULL << 11;
constexpr std::uint64_t kDeliveryPending = 1ULL << 12;  // read-only
constexpr std::uint64_t kRemoteIrr = 1ULL << 14;        // read-only
constexpr std::uint64_t kLevelTriggered = 1ULL << 15;
constexpr std::uint64_t kMasked = 1ULL << 16;
constexpr std::uint64_t kReadOnlyBits = kDeliveryPending | kRemoteIrr;
constexpr std::uint64_t kResetEntry = kMasked;  // every pin starts masked

constexpr const char* kStateKind = "ioapic";

}  // namespace

Ioapic::Ioapic(MsiSender& sender) : sender_(sender) { entries_.fill(kResetEntry); }

MsiMessage Ioapic::message_for(std::uint64_t entry) {
  // Intel SDM 10.11: the redirection entry maps onto an MSI address and data word.
  const auto destination = static_cast<std::uint32_t>(entry >> 56);
  const bool level_triggered = (entry & kLevelTriggered) != 0;
  MsiMessage msi;
  msi.address = 0xfee0'0000ULL | (std::uint64_t{destination} << 12) | (((entry & kDestinationLogical) != 0) ? 1ULL << 2 : 0);
  msi.data = static_cast<std::uint32_t>((entry & kVectorMask) | (entry & kDeliveryModeMask) |
                                        (level_triggered ? (1U << 15) | (1U << 14) : 0));
  return msi;
}

void Ioapic::mmio_read(std::uint64_t offset, std::span<std::uint8_t> data) noexcept {
  std::fill(data.begin(), data.end(), std::uint8_t{0});
  if (data.size() != 4) return;  // 32-bit registers only
  std::uint32_t value = 0;
  {
    std::lock_guard lock(mutex_);
    if (offset == kRegSelect) value = select_;
    if (offset == kRegWindow) value = read_window();
  }
  std::memcpy(data.data(), &value, 4);
}

void Ioapic::mmio_write(std::uint64_t offset, std::span<const std::uint8_t> data) noexcept {
  if (data.size() != 4) return;
  std::uint32_t value = 0;
  std::memcpy(&value, data.data(), 4);
  if (offset == kRegEoi) {
    end_of_interrupt(static_cast<std::uint8_t>(value));
    return;
  }
  std::lock_guard lock(mutex_);
  if (offset == kRegSelect) select_ = value & 0xff;
  if (offset == kRegWindow) write_window(value);
}

std::uint32_t Ioapic::read_window() const {
  if (select_ == kIndexId || select_ == kIndexArbitration) return id_;
  if (select_ == kIndexVersion) return kVersion;
  if (select_ >= kIndexRedirection && select_ < kIndexRedirection + 2 * kPins) {
    const std::uint64_t entry = entries_[(select_ - kIndexRedirection) / 2];
    return static_cast<std::uint32_t>((select_ % 2 == 0) ? entry : entry >> 32);
  }
  return 0xffffffff;  // no such register
}

void Ioapic::write_window(std::uint32_t value) {
  if (select_ == kIndexId) {
    id_ = value & 0x0f00'0000;
    return;
  }
  if (select_ < kIndexRedirection || select_ >= kIndexRedirection + 2 * kPins) return;
  const std::uint32_t pin = (select_ - kIndexRedirection) / 2;
  std::uint64_t& entry = entries_[pin];
  const std::uint64_t kept = entry & kReadOnlyBits;
  if (select_ % 2 == 0) {
    entry = (entry & 0xffff'ffff'0000'0000ULL) | value;
  } else {
    entry = (entry & 0xffff'ffffULL) | (std::uint64_t{value} << 32);
  }
  entry = (entry & ~kReadOnlyBits) | kept;
  // An edge-triggered entry has no EOI to wait for, so Remote IRR clears. Guests rely on this to
  // retire an interrupt they moved away from the CPU that took it (Linux does the same on IOAPICs
  // without an EOI register); KVM's and QEMU's IOAPICs behave alike.
  if ((entry & kLevelTriggered) == 0) entry &= ~kRemoteIrr;
  sender_.route_changed(pin, message_for(entry));
  // Unmasking a pin whose line is asserted delivers it now (the interrupt was held, not lost).
  service(pin);
}

void Ioapic::set_pin(std::uint32_t pin, bool asserted) noexcept {
  if (pin >= kPins) return;
  std::lock_guard lock(mutex_);
  const bool was = level_[pin];
  level_[pin] = asserted;
  const bool level_triggered = (entries_[pin] & kLevelTriggered) != 0;
  // Edge-triggered pins fire on the rising edge only; level-triggered ones while asserted.
  if (asserted && (level_triggered || !was)) service(pin);
}

void Ioapic::end_of_interrupt(std::uint8_t vector) noexcept {
  std::lock_guard lock(mutex_);
  for (std::uint32_t pin = 0; pin < kPins; ++pin) {
    std::uint64_t& entry = entries_[pin];
    if ((entry & kLevelTriggered) != 0 && (entry & kRemoteIrr) != 0 && (entry & kVectorMask) == vector) {
      entry &= ~kRemoteIrr;
      service(pin);  // still asserted: deliver again
    }
  }
}

void Ioapic::service(std::uint32_t pin) {
  std::uint64_t& entry = entries_[pin];
  // The line is active when the device asserts it; polarity describes the wire, and the model's pins
  // carry the logical level, so active-low entries see the same logical assertion.
  if (!level_[pin]) return;
  if ((entry & kMasked) != 0) {
    metrics_.masked.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const bool level_triggered = (entry & kLevelTriggered) != 0;
  if (level_triggered && (entry & kRemoteIrr) != 0) return;  // in service: wait for the EOI
  if (!sender_.send_msi(pin, message_for(entry))) {
    metrics_.send_failures.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  metrics_.delivered.fetch_add(1, std::memory_order_relaxed);
  if (level_triggered) entry |= kRemoteIrr;
}

std::uint64_t Ioapic::redirection_entry(std::uint32_t pin) const {
  std::lock_guard lock(mutex_);
  return pin < kPins ? entries_[pin] : 0;
}

DeviceState Ioapic::save_state() const {
  std::lock_guard lock(mutex_);
  StateWriter w;
  w.u32(select_), w.u32(id_);
  for (std::uint32_t pin = 0; pin < kPins; ++pin) {
    w.u64(entries_[pin]);
    w.boolean(level_[pin]);
  }
  return DeviceState{kStateKind, 1, w.take()};
}

tl::expected<void, StateError> Ioapic::restore_state(const DeviceState& state) {
  if (auto ok = check_state_header(state, kStateKind, 1); !ok) return ok;
  StateReader r(state.payload);
  auto select = r.u32();
  auto id = r.u32();
  if (!select || !id) return tl::unexpected(StateError{"ioapic state truncated"});
  std::array<std::uint64_t, kPins> entries{};
  std::array<bool, kPins> levels{};
  for (std::uint32_t pin = 0; pin < kPins; ++pin) {
    auto e = r.u64();
    auto l = r.boolean();
    if (!e || !l) return tl::unexpected(StateError{"ioapic state truncated"});
    entries[pin] = *e;
    levels[pin] = *l;
  }
  if (!r.at_end()) return tl::unexpected(StateError{"ioapic state has trailing bytes"});
  std::lock_guard lock(mutex_);
  select_ = *select & 0xff, id_ = *id & 0x0f00'0000;
  entries_ = entries;
  level_ = levels;
  // The hypervisor's routes follow the restored entries.
  for (std::uint32_t pin = 0; pin < kPins; ++pin) {
    sender_.route_changed(pin, message_for(entries_[pin]));
  }
  return {};
}

}  // namespace tilehv::vdevices
