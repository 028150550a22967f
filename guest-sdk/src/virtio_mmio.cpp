// virtio-mmio (driver side): device discovery from the command line and the initialization sequence of
// virtio 1.2 spec 3.1.1 over the version-2 register file (spec 4.2.2).
#include <guest/boot_info.hpp>
#include <guest/cmdline.hpp>
#include <guest/virtio_mmio.hpp>
#include <guest/virtqueue.hpp>

namespace guest::virtio {
namespace {

enum : uint32_t {
  kMagic = 0x000, kVersion = 0x004, kDeviceId = 0x008, kDeviceFeatures = 0x010, kDeviceFeaturesSel = 0x014,
  kDriverFeatures = 0x020, kDriverFeaturesSel = 0x024, kQueueSel = 0x030, kQueueNumMax = 0x034, kQueueNum = 0x038,
  kQueueReady = 0x044, kQueueNotify = 0x050, kInterruptStatus = 0x060, kInterruptAck = 0x064, kStatus = 0x070,
  kQueueDescLow = 0x080, kQueueDescHigh = 0x084, kQueueDriverLow = 0x090, kQueueDriverHigh = 0x094,
  kQueueDeviceLow = 0x0a0, kQueueDeviceHigh = 0x0a4, kConfigGeneration = 0x0fc, kConfig = 0x100,
};
constexpr uint32_t kStatusAcknowledge = 1, kStatusDriver = 2, kStatusDriverOk = 4, kStatusFeaturesOk = 8;
constexpr uint32_t kStatusNeedsReset = 0x40;
constexpr uint64_t kFeatureVersion1 = 1ULL << 32;

// SIZE in Linux's memparse syntax: a number with an optional K, M or G suffix.
bool parse_size(StrView text, uint64_t& out) {
  uint64_t shift = 0;
  if (!text.empty()) {
    const char last = text[text.size() - 1];
    if (last == 'K' || last == 'k') shift = 10;
    if (last == 'M' || last == 'm') shift = 20;
    if (last == 'G' || last == 'g') shift = 30;
    if (shift != 0) text = text.substr(0, text.size() - 1);
  }
  const cmdline::ParsedInteger n = cmdline::parse_u64(text);
  if (!n.ok) return false;
  out = n.value << shift;
  return true;
}

}  // namespace

size_t discover(StrView line, MmioDeviceInfo* out, size_t capacity) {
  const StrView key = "virtio_mmio.device=";
  size_t found = 0;
  size_t pos = 0;
  while (pos < line.size() && found < capacity) {
    size_t end = line.find(' ', pos);
    if (end == static_cast<size_t>(-1) || end > line.size()) end = line.size();
    const StrView word = line.substr(pos, end - pos);
    pos = end + 1;
    if (!word.starts_with(key)) continue;
    const StrView spec = word.substr(key.size());
    const size_t at = spec.find('@');
    const size_t colon = spec.find(':');
    if (at == static_cast<size_t>(-1) || colon == static_cast<size_t>(-1) || colon < at) continue;
    MmioDeviceInfo info{};
    const cmdline::ParsedInteger base = cmdline::parse_u64(spec.substr(at + 1, colon - at - 1));
    const cmdline::ParsedInteger irq = cmdline::parse_u64(spec.substr(colon + 1));
    if (!parse_size(spec.substr(0, at), info.size) || !base.ok || !irq.ok) continue;
    info.base = base.value;
    info.irq = static_cast<uint32_t>(irq.value);
    out[found++] = info;
  }
  return found;
}

bool find_device(uint32_t device_id, MmioDeviceInfo& out, size_t& index) {
  constexpr size_t kMaxAnnounced = 16;
  MmioDeviceInfo found[kMaxAnnounced];
  const size_t count = discover(boot_info::cmdline(), found, kMaxAnnounced);
  for (size_t i = 0; i < count; ++i) {
    const MmioDevice device(found[i]);
    if (device.present() && device.device_id() == device_id) {
      out = found[i];
      index = i;
      return true;
    }
  }
  return false;
}

uint32_t MmioDevice::read(uint32_t offset) const {
  return *reinterpret_cast<volatile const uint32_t*>(base_ + offset);
}

void MmioDevice::write(uint32_t offset, uint32_t value) { *reinterpret_cast<volatile uint32_t*>(base_ + offset) = value; }

bool MmioDevice::present() const {
  return read(kMagic) == 0x74726976 && read(kVersion) == 2 && read(kDeviceId) != 0;
}

uint32_t MmioDevice::device_id() const { return read(kDeviceId); }

bool MmioDevice::begin_init(uint64_t wanted) {
  start_init();
  return accept_features(wanted);
}

uint64_t MmioDevice::start_init() {
  write(kStatus, 0);
  write(kStatus, kStatusAcknowledge);
  write(kStatus, kStatusAcknowledge | kStatusDriver);
  write(kDeviceFeaturesSel, 0);
  uint64_t offered = read(kDeviceFeatures);
  write(kDeviceFeaturesSel, 1);
  offered |= uint64_t{read(kDeviceFeatures)} << 32;
  offered_ = offered;
  return offered;
}

bool MmioDevice::accept_features(uint64_t wanted) {
  features_ = (wanted | kFeatureVersion1) & offered_;
  if ((features_ & kFeatureVersion1) == 0) return false;
  write(kDriverFeaturesSel, 0);
  write(kDriverFeatures, static_cast<uint32_t>(features_));
  write(kDriverFeaturesSel, 1);
  write(kDriverFeatures, static_cast<uint32_t>(features_ >> 32));
  write(kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  return (read(kStatus) & kStatusFeaturesOk) != 0;
}

bool MmioDevice::setup_queue(uint16_t index, VirtqueueBase& queue) {
  write(kQueueSel, index);
  const uint32_t maximum = read(kQueueNumMax);
  if (maximum == 0) return false;
  if (maximum < queue.size()) {
    uint16_t fitting = queue.size();
    while (fitting > maximum) fitting = static_cast<uint16_t>(fitting / 2);
    if (!queue.shrink(fitting)) return false;
  }
  return setup_queue_at(index, queue.size(), queue.descriptor_table(), queue.available_ring(), queue.used_ring());
}

bool MmioDevice::setup_queue_at(uint16_t index, uint16_t size, uint64_t descriptors, uint64_t available, uint64_t used) {
  write(kQueueSel, index);
  if (read(kQueueNumMax) < size) return false;
  write(kQueueNum, size);
  write(kQueueDescLow, static_cast<uint32_t>(descriptors));
  write(kQueueDescHigh, static_cast<uint32_t>(descriptors >> 32));
  write(kQueueDriverLow, static_cast<uint32_t>(available));
  write(kQueueDriverHigh, static_cast<uint32_t>(available >> 32));
  write(kQueueDeviceLow, static_cast<uint32_t>(used));
  write(kQueueDeviceHigh, static_cast<uint32_t>(used >> 32));
  write(kQueueReady, 1);
  return true;
}

bool MmioDevice::finish_init() {
  write(kStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
  return (read(kStatus) & kStatusNeedsReset) == 0;
}

void MmioDevice::notify(uint16_t queue) { write(kQueueNotify, queue); }
uint32_t MmioDevice::status() const { return read(kStatus); }

uint8_t MmioDevice::config8(uint32_t offset) const {
  return *reinterpret_cast<volatile const uint8_t*>(base_ + kConfig + offset);
}
uint16_t MmioDevice::config16(uint32_t offset) const {
  return *reinterpret_cast<volatile const uint16_t*>(base_ + kConfig + offset);
}
uint32_t MmioDevice::config32(uint32_t offset) const { return read(kConfig + offset); }
uint32_t MmioDevice::config_generation() const { return read(kConfigGeneration); }

uint32_t MmioDevice::acknowledge_interrupt() {
  const uint32_t pending = read(kInterruptStatus);
  write(kInterruptAck, pending);
  return pending;
}

}  // namespace guest::virtio
