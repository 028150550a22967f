// virtio-vsock (driver side): a virtio 1.2 socket device (spec 5.10) over virtio-mmio, modern only.
#include <guest/virtio_vsock.hpp>

namespace guest::virtio {
namespace {

constexpr uint64_t feature_stream = 1ULL << 0;  // VIRTIO_VSOCK_F_STREAM (spec 5.10.3)
constexpr uint32_t config_guest_cid = 0;        // struct virtio_vsock_config { le64 guest_cid; }
constexpr uint16_t receive_queue = 0, transmit_queue = 1, event_queue = 2;
constexpr uint32_t event_transport_reset = 0;  // VIRTIO_VSOCK_EVENT_TRANSPORT_RESET
constexpr int max_config_reads = 16;

}  // namespace

VsockDevice::InitError VsockDevice::init() {
  MmioDeviceInfo info{};
  size_t index = 0;
  if (!find_device(kDeviceId, info, index)) return InitError::no_device;
  return init(info);
}

VsockDevice::InitError VsockDevice::init(const MmioDeviceInfo& info) {
  info_ = info;
  device_ = MmioDevice(info);
  if (!device_.present() || device_.device_id() != kDeviceId) return InitError::no_device;
  const uint64_t offered = device_.start_init();
  // STREAM if the device names it; a device that offers no type bits does streams anyway.
  if (!device_.accept_features(offered & feature_stream)) return InitError::features_refused;
  if (!device_.setup_queue(receive_queue, rx_)) return InitError::no_receive_queue;
  if (!device_.setup_queue(transmit_queue, tx_)) return InitError::no_transmit_queue;
  if (!device_.setup_queue(event_queue, event_)) return InitError::no_event_queue;
  // Spec 5.10.5: the CID first, then event buffers, then receive buffers.
  cid_ = read_cid();
  if (!vsock::is_guest_cid(cid_)) return InitError::bad_cid;
  for (uint16_t slot = 0; slot < event_.size(); ++slot) post_event_buffer(slot);
  for (uint16_t slot = 0; slot < rx_.size(); ++slot) post_receive_buffer(slot);
  // Transmit completions are reaped on the next send; an interrupt for each would only cost exits.
  tx_.set_interrupts(false);
  tx_free_count_ = 0;
  for (uint16_t slot = 0; slot < tx_.size(); ++slot) tx_free_slots_[tx_free_count_++] = slot;
  interrupt_.enable(info_);  // polling if it fails
  if (!device_.finish_init()) return InitError::device_failed;
  // Notifications only after DRIVER_OK (spec 3.1.1); the buffers were posted before it.
  device_.notify(event_queue);
  device_.notify(receive_queue);
  return InitError::none;
}

uint64_t VsockDevice::read_cid() {
  uint64_t cid = 0;
  for (int attempt = 0; attempt < max_config_reads; ++attempt) {
    const uint32_t before = device_.config_generation();
    // A 64-bit field is read as two 32-bit halves on virtio-mmio (spec 4.2.2.2).
    cid = uint64_t{device_.config32(config_guest_cid)} | (uint64_t{device_.config32(config_guest_cid + 4)} << 32);
    if (device_.config_generation() == before) break;
  }
  return cid;
}

void VsockDevice::post_receive_buffer(uint16_t slot) {
  const DriverBuffer buffer{rx_buffers_[slot], kBufferSize, true};
  const int head = rx_.add(&buffer, 1);
  // A slot is posted only after its descriptor came back, so there is always room.
  if (head >= 0) rx_slot_of_head_[head] = slot;
}

void VsockDevice::post_event_buffer(uint16_t slot) {
  const DriverBuffer buffer{event_buffers_[slot], sizeof event_buffers_[slot], true};
  const int head = event_.add(&buffer, 1);
  if (head >= 0) event_slot_of_head_[head] = slot;
}

bool VsockDevice::receive(vsock::Header& header, uint8_t* payload, size_t capacity) {
  for (;;) {
    uint16_t head = 0;
    uint32_t written = 0;
    if (!rx_.take_used(head, written)) return false;
    const uint16_t slot = rx_slot_of_head_[head];
    // The used length is the device's word, checked like any other: it must lie inside the buffer,
    // cover the header and the payload the header announces.
    const size_t valid = written < kBufferSize ? written : kBufferSize;
    vsock::Header h{};
    bool taken = false;
    if (written > kBufferSize || !vsock::parse_packet(rx_buffers_[slot], valid, h)) {
      ++counters_.rx_malformed;
    } else if (h.len > capacity) {
      ++counters_.rx_dropped;
    } else {
      // Copied out before the buffer goes back, so the checks above hold for what the caller sees.
      __builtin_memcpy(payload, rx_buffers_[slot] + vsock::kHeaderSize, h.len);
      header = h;
      taken = true;
    }
    post_receive_buffer(slot);
    if (rx_.notification_wanted()) device_.notify(receive_queue);
    if (taken) {
      ++counters_.received;
      return true;
    }
  }
}

bool VsockDevice::take_reset() {
  bool reset = false;
  uint16_t head = 0;
  uint32_t written = 0;
  bool reposted = false;
  while (event_.take_used(head, written)) {
    ++counters_.events;
    const uint16_t slot = event_slot_of_head_[head];
    const uint8_t* e = event_buffers_[slot];
    const uint32_t id = uint32_t{e[0]} | (uint32_t{e[1]} << 8) | (uint32_t{e[2]} << 16) | (uint32_t{e[3]} << 24);
    // Unknown events are ignored: spec 5.10.6.6 defines only the transport reset.
    if (written >= sizeof event_buffers_[slot] && id == event_transport_reset) reset = true;
    post_event_buffer(slot);
    reposted = true;
  }
  if (reposted && event_.notification_wanted()) device_.notify(event_queue);
  if (reset) {
    ++counters_.transport_resets;
    // Spec 5.10.6.6: the CID is fetched again; a reserved one leaves the guest without an address.
    const uint64_t cid = read_cid();
    cid_ = vsock::is_guest_cid(cid) ? cid : 0;
  }
  return reset;
}

void VsockDevice::reap_transmitted() {
  uint16_t head = 0;
  uint32_t written = 0;
  while (tx_.take_used(head, written)) {
    if (tx_free_count_ < tx_.size()) tx_free_slots_[tx_free_count_++] = tx_slot_of_head_[head];
  }
}

bool VsockDevice::transmit_room() {
  reap_transmitted();
  return tx_free_count_ != 0 && tx_.free_descriptors() != 0;
}

vsock::SendResult VsockDevice::send(const vsock::Header& header, const void* payload) {
  if (header.len > max_payload()) return vsock::SendResult::too_long;
  if (!transmit_room()) {
    ++counters_.tx_busy;
    return vsock::SendResult::busy;
  }
  const uint16_t slot = tx_free_slots_[--tx_free_count_];
  uint8_t* buffer = tx_buffers_[slot];
  // Header and payload in one buffer: devices must not assume any framing of the chain (spec
  // 2.6.4), and one descriptor per packet keeps the transmit queue as deep as it is long.
  vsock::encode_header(header, buffer);
  if (header.len != 0) __builtin_memcpy(buffer + vsock::kHeaderSize, payload, header.len);
  const DriverBuffer descriptor{buffer, static_cast<uint32_t>(vsock::kHeaderSize + header.len), false};
  const int head = tx_.add(&descriptor, 1);
  if (head < 0) {
    tx_free_slots_[tx_free_count_++] = slot;
    return vsock::SendResult::busy;
  }
  tx_slot_of_head_[head] = slot;
  if (tx_.notification_wanted()) device_.notify(transmit_queue);
  ++counters_.sent;
  return vsock::SendResult::sent;
}

bool VsockDevice::wait(const time::Deadline& deadline, bool for_send) {
  // Completions interrupt only while someone waits for them.
  if (for_send) tx_.set_interrupts(true);
  const bool woke = interrupt_.wait_until(
      [this, for_send] { return rx_.has_used() || event_.has_used() || (for_send && transmit_room()); }, deadline);
  if (for_send) tx_.set_interrupts(false);
  return woke;
}

bool VsockDevice::wait_sent(const time::Deadline& deadline) {
  tx_.set_interrupts(true);
  bool done = true;
  for (;;) {
    reap_transmitted();
    if (tx_free_count_ == tx_.size()) break;
    if (!interrupt_.wait_until([this] { return tx_.has_used(); }, deadline)) {
      done = false;
      break;
    }
  }
  tx_.set_interrupts(false);
  return done;
}

}  // namespace guest::virtio
