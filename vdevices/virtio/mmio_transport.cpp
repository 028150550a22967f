// MmioTransport: the virtio-mmio transport, version 2 (spec 4.2): the register file a driver programs,
// the device-status state machine, feature negotiation, queue setup and the interrupt status.
#include "virtio/mmio_transport.hpp"

#include <cstring>

#include <fmt/format.h>

namespace tilehv::vdevices::virtio {
namespace {

// Spec 4.2.2, table "MMIO Device Register Layout".
enum Register : std::uint64_t {
  kMagic = 0x000, kVersion = 0x004, kDeviceId = 0x008, kVendorId = 0x00c,
  kDeviceFeatures = 0x010, kDeviceFeaturesSel = 0x014, kDriverFeatures = 0x020, kDriverFeaturesSel = 0x024,
  kQueueSel = 0x030, kQueueNumMax = 0x034, kQueueNum = 0x038, kQueueReady = 0x044, kQueueNotify = 0x050,
  kInterruptStatus = 0x060, kInterruptAck = 0x064, kStatus = 0x070,
  kQueueDescLow = 0x080, kQueueDescHigh = 0x084, kQueueDriverLow = 0x090, kQueueDriverHigh = 0x094,
  kQueueDeviceLow = 0x0a0, kQueueDeviceHigh = 0x0a4, kConfigGeneration = 0x0fc, kConfig = 0x100,
};

constexpr std::uint32_t kMagicValue = 0x74726976;  // "virt"
constexpr std::uint32_t kVersion2 = 2;
constexpr std::uint32_t kVendor = 0x54484856;      // "VHHT": tilehv
constexpr std::uint8_t kStatusDriverOk = 4, kStatusFeaturesOk = 8;
constexpr std::uint8_t kStatusNeedsReset = 0x40;
constexpr std::uint32_t kInterruptUsedBuffer = 1, kInterruptConfig = 2;

constexpr const char* kStateKind = "virtio-mmio";

void set_low(std::uint64_t& field, std::uint32_t v) { field = (field & ~0xffffffffULL) | v; }
void set_high(std::uint64_t& field, std::uint32_t v) { field = (field & 0xffffffffULL) | (std::uint64_t{v} << 32); }

}  // namespace

MmioTransport::MmioTransport(VirtioDevice& device, const memory::GuestMemory& memory, InterruptLine& irq)
    : device_(device), memory_(memory), irq_(irq), queues_(device.queue_max_sizes().size()) {}

void MmioTransport::set_error_reporter(GuestErrorReporter* reporter, std::string name) {
  std::lock_guard lock(mutex_);
  reporter_ = reporter;
  name_ = std::move(name);
}

void MmioTransport::mmio_read(std::uint64_t offset, std::span<std::uint8_t> data) noexcept {
  std::fill(data.begin(), data.end(), std::uint8_t{0});
  if (offset >= kConfig) {
    const std::uint64_t at = offset - kConfig;
    if (at + data.size() <= device_.config_size()) device_.read_config(static_cast<std::uint32_t>(at), data);
    return;
  }
  // Spec 4.2.2.2: registers are read 32 bits wide and aligned; anything else reads as zero.
  if (data.size() != 4 || offset % 4 != 0) {
    metrics_.bad_accesses.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::uint32_t value = 0;
  {
    std::lock_guard lock(mutex_);
    value = read_register(offset);
  }
  std::memcpy(data.data(), &value, 4);
}

void MmioTransport::mmio_write(std::uint64_t offset, std::span<const std::uint8_t> data) noexcept {
  if (offset >= kConfig) {
    const std::uint64_t at = offset - kConfig;
    if (at + data.size() <= device_.config_size()) {
      device_.write_config(static_cast<std::uint32_t>(at), data);
    }
    return;
  }
  if (data.size() != 4 || offset % 4 != 0) {
    metrics_.bad_accesses.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::uint32_t value = 0;
  std::memcpy(&value, data.data(), 4);
  if (offset == kQueueNotify) {
    if (value <= 0xffff) notify_queue(static_cast<std::uint16_t>(value));
    return;
  }
  std::lock_guard lock(mutex_);
  write_register(offset, value);
}

void MmioTransport::device_error(const std::string& reason) noexcept {
  std::lock_guard lock(mutex_);
  if (active_) needs_reset(reason);
}

void MmioTransport::notify_queue(std::uint16_t queue) noexcept {
  metrics_.notifications.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    if (!active_ || queue >= queues_.size()) return;
  }
  // Outside the transport lock: the device may push buffers and raise an interrupt.
  if (auto r = device_.notify(queue); !r) {
    std::lock_guard lock(mutex_);
    // The device may have been reset meanwhile; only an active device is marked.
    if (active_) needs_reset(fmt::format("queue {}: {}", queue, r.error()));
  }
}

MmioTransport::QueueRegisters* MmioTransport::selected_queue() {
  return queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
}

std::uint32_t MmioTransport::read_register(std::uint64_t offset) {
  QueueRegisters* q = selected_queue();
  switch (offset) {
    case kMagic: return kMagicValue;
    case kVersion: return kVersion2;
    case kDeviceId: return device_.device_id();
    case kVendorId: return kVendor;
    case kDeviceFeatures:
      return device_features_sel_ < 2 ? static_cast<std::uint32_t>(device_.offered_features() >> (32 * device_features_sel_)) : 0;
    case kQueueNumMax: return q != nullptr ? device_.queue_max_sizes()[queue_sel_] : 0;
    case kQueueReady: return q != nullptr && q->ready ? 1 : 0;
    case kInterruptStatus: return interrupt_status_;
    case kStatus: return status_;
    case kConfigGeneration: return config_generation_;
    default: return 0;  // write-only and reserved registers read as zero
  }
}

void MmioTransport::write_register(std::uint64_t offset, std::uint32_t value) {
  QueueRegisters* q = selected_queue();
  // Queue registers may change only while the queue is not ready (spec 4.2.2.3).
  const bool queue_writable = q != nullptr && !q->ready && !active_;
  switch (offset) {
    case kDeviceFeaturesSel: device_features_sel_ = value; break;
    case kDriverFeaturesSel: driver_features_sel_ = value; break;
    case kDriverFeatures:
      // Features are fixed once FEATURES_OK is set (spec 3.1.1).
      if ((status_ & kStatusFeaturesOk) == 0 && driver_features_sel_ < 2) {
        (driver_features_sel_ == 0 ? set_low : set_high)(driver_features_, value);
      }
      break;
    case kQueueSel: queue_sel_ = value; break;
    case kQueueNum: if (queue_writable) q->size = static_cast<std::uint16_t>(std::min<std::uint32_t>(value, 0xffff)); break;
    case kQueueReady: if (q != nullptr && !active_) q->ready = (value & 1) != 0; break;
    case kQueueDescLow: if (queue_writable) set_low(q->descriptor_table, value); break;
    case kQueueDescHigh: if (queue_writable) set_high(q->descriptor_table, value); break;
    case kQueueDriverLow: if (queue_writable) set_low(q->available_ring, value); break;
    case kQueueDriverHigh: if (queue_writable) set_high(q->available_ring, value); break;
    case kQueueDeviceLow: if (queue_writable) set_low(q->used_ring, value); break;
    case kQueueDeviceHigh: if (queue_writable) set_high(q->used_ring, value); break;
    case kInterruptAck:
      interrupt_status_ &= ~value;
      irq_.set_level(interrupt_status_ != 0);
      break;
    case kStatus: write_status(value); break;
    default:
      metrics_.bad_accesses.fetch_add(1, std::memory_order_relaxed);  // read-only or reserved
      break;
  }
}

void MmioTransport::write_status(std::uint32_t value) {
  const auto wanted = static_cast<std::uint8_t>(value);
  if (wanted == 0) {
    reset_locked();
    return;
  }
  // The driver only adds bits (spec 2.1.1); clearing one other than by a reset is ignored.
  if ((wanted & status_) != status_) return;
  const std::uint8_t added = static_cast<std::uint8_t>(wanted & ~status_);
  if ((added & kStatusFeaturesOk) != 0) {
    const std::uint64_t offered = device_.offered_features();
    if ((driver_features_ & ~offered) != 0 || (driver_features_ & kFeatureVersion1) == 0) {
      // FEATURES_OK is refused by not setting it: the driver reads it back (spec 3.1.1 step 6).
      last_error_ = fmt::format("driver features {:#x} are not a subset of the offered {:#x} with VERSION_1",
                                driver_features_, offered);
      status_ = static_cast<std::uint8_t>(status_ | (added & ~kStatusFeaturesOk & ~kStatusDriverOk));
      return;
    }
  }
  status_ = wanted;
  if ((added & kStatusDriverOk) != 0) driver_ok();
}

void MmioTransport::driver_ok() {
  if ((status_ & kStatusFeaturesOk) == 0) {
    needs_reset("DRIVER_OK without FEATURES_OK");
    return;
  }
  ActiveQueues active;
  active.features = driver_features_;
  const QueueFeatures features{(driver_features_ & kFeatureIndirectDesc) != 0, (driver_features_ & kFeatureEventIdx) != 0};
  for (std::size_t i = 0; i < queues_.size(); ++i) {
    const QueueRegisters& q = queues_[i];
    if (!q.ready) continue;
    if (q.size > device_.queue_max_sizes()[i]) {
      needs_reset(fmt::format("queue {}: size {} above the maximum {}", i, q.size, device_.queue_max_sizes()[i]));
      return;
    }
    auto queue = SplitQueue::create({q.size, q.descriptor_table, q.available_ring, q.used_ring}, memory_, features);
    if (!queue) {
      needs_reset(fmt::format("queue {}: {}", i, queue.error().message));
      return;
    }
    active.queues.push_back(std::move(*queue));
    active.queue_indices.push_back(static_cast<std::uint16_t>(i));
  }
  if (auto r = device_.activate(std::move(active), *this); !r) {
    needs_reset(r.error());
    return;
  }
  active_ = true;
}

void MmioTransport::needs_reset(std::string reason) {
  metrics_.resets_needed.fetch_add(1, std::memory_order_relaxed);
  last_error_ = std::move(reason);
  if (active_) device_.reset();
  active_ = false;
  // Spec 2.1.2: the device sets DEVICE_NEEDS_RESET and sends a configuration change notification.
  status_ = static_cast<std::uint8_t>(status_ | kStatusNeedsReset);
  raise(kInterruptConfig);
  if (reporter_ != nullptr) reporter_->guest_error(name_, last_error_ + "; device needs reset");
}

void MmioTransport::reset_locked() {
  if (active_) device_.reset();
  active_ = false;
  status_ = 0;
  driver_features_ = 0;
  device_features_sel_ = driver_features_sel_ = queue_sel_ = 0;
  interrupt_status_ = 0;
  for (auto& q : queues_) q = QueueRegisters{};
  irq_.set_level(false);
}

void MmioTransport::raise(std::uint32_t bits) {
  interrupt_status_ |= bits;
  metrics_.interrupts.fetch_add(1, std::memory_order_relaxed);
  irq_.set_level(true);
}

void MmioTransport::used_buffers() noexcept {
  std::lock_guard lock(mutex_);
  raise(kInterruptUsedBuffer);
}

void MmioTransport::config_changed() noexcept {
  std::lock_guard lock(mutex_);
  ++config_generation_;
  raise(kInterruptConfig);
}

std::string MmioTransport::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

std::uint8_t MmioTransport::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

DeviceState MmioTransport::save_state() const {
  std::lock_guard lock(mutex_);
  StateWriter w;
  w.u32(device_features_sel_), w.u32(driver_features_sel_), w.u32(queue_sel_);
  w.u64(driver_features_);
  w.u8(status_), w.u32(interrupt_status_), w.u32(config_generation_);
  w.boolean(active_);
  w.u32(static_cast<std::uint32_t>(queues_.size()));
  for (const auto& q : queues_) {
    w.u16(q.size), w.boolean(q.ready), w.u64(q.descriptor_table), w.u64(q.available_ring), w.u64(q.used_ring);
  }
  return DeviceState{kStateKind, 1, w.take()};
}

tl::expected<void, StateError> MmioTransport::restore_state(const DeviceState& state) {
  if (auto ok = check_state_header(state, kStateKind, 1); !ok) return ok;
  StateReader r(state.payload);
  // Decode everything into locals first: a bad record changes nothing.
  std::uint32_t sels[3] = {};
  for (auto& s : sels) {
    auto v = r.u32();
    if (!v) return tl::unexpected(v.error());
    s = *v;
  }
  auto features = r.u64();
  auto status = r.u8();
  auto interrupt = r.u32();
  auto generation = r.u32();
  auto active = r.boolean();
  auto count = r.u32();
  if (!features || !status || !interrupt || !generation || !active || !count) {
    return tl::unexpected(StateError{"virtio-mmio state truncated"});
  }
  if (*count != queues_.size()) {
    return tl::unexpected(StateError{fmt::format("virtio-mmio state has {} queues, the device {}", *count, queues_.size())});
  }
  std::vector<QueueRegisters> queues(*count);
  for (auto& q : queues) {
    auto size = r.u16();
    auto ready = r.boolean();
    auto desc = r.u64();
    auto avail = r.u64();
    auto used = r.u64();
    if (!size || !ready || !desc || !avail || !used) return tl::unexpected(StateError{"virtio-mmio queue state truncated"});
    q = QueueRegisters{*size, *ready, *desc, *avail, *used};
  }
  if (!r.at_end()) return tl::unexpected(StateError{"virtio-mmio state has trailing bytes"});
  std::lock_guard lock(mutex_);
  device_features_sel_ = sels[0], driver_features_sel_ = sels[1], queue_sel_ = sels[2];
  driver_features_ = *features, status_ = *status, interrupt_status_ = *interrupt, config_generation_ = *generation;
  active_ = *active;
  queues_ = std::move(queues);
  irq_.set_level(interrupt_status_ != 0);
  // The device's own state (its queues) was restored before the transport's: give it the interrupt.
  if (active_) device_.reattach(*this);
  return {};
}

}  // namespace tilehv::vdevices::virtio
