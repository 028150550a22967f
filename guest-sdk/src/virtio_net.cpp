// virtio-net (driver side): a virtio 1.2 network device (spec 5.1) over virtio-mmio, modern only.
#include <guest/virtio_net.hpp>

#include <guest/cpu.hpp>
#include <guest/net/ethernet.hpp>

namespace guest::virtio {
namespace {

constexpr uint64_t feature_mtu = 1ULL << 3;  // spec 5.1.3
constexpr uint64_t feature_mac = 1ULL << 5;
// struct virtio_net_config (spec 5.1.4): mac[6], status, max_virtqueue_pairs, mtu.
constexpr uint32_t config_mac = 0, config_mtu = 10;
// Spec 5.1.4.1: a device's mtu is 68..65535; this driver's buffers hold frames of up to 1500.
constexpr uint16_t min_mtu = 68;
constexpr uint16_t receive_queue = 0, transmit_queue = 1;
constexpr int max_config_reads = 16;

}  // namespace

NetDevice::InitError NetDevice::init(uint16_t queue_limit) {
  MmioDeviceInfo info{};
  size_t index = 0;
  if (!find_device(kDeviceId, info, index)) return InitError::no_device;
  return init(info, queue_limit);
}

NetDevice::InitError NetDevice::init(const MmioDeviceInfo& info, uint16_t queue_limit) {
  if (queue_limit < 2 || queue_limit > kQueueSize) return InitError::bad_queue_limit;
  // shrink() also refuses sizes that are not powers of two.
  if (queue_limit < kQueueSize && (!rx_.shrink(queue_limit) || !tx_.shrink(queue_limit))) {
    return InitError::bad_queue_limit;
  }
  info_ = info;
  device_ = MmioDevice(info);
  if (!device_.present() || device_.device_id() != kDeviceId) return InitError::no_device;
  const uint64_t offered = device_.start_init();
  uint64_t wanted = feature_mac;
  // Spec 3.1.1 step 4 lets the driver read the configuration before it accepts features: an MTU
  // above what the receive buffers hold is declined, since negotiating it would promise buffers for
  // frames that large (spec 5.1.6.3.1), and the link then runs at the default 1500.
  if ((offered & feature_mtu) != 0) {
    const uint16_t offered_mtu = device_.config16(config_mtu);
    if (offered_mtu >= min_mtu && offered_mtu <= kDefaultMtu) wanted |= feature_mtu;
  }
  if (!device_.accept_features(wanted)) return InitError::features_refused;
  if (!device_.setup_queue(receive_queue, rx_)) return InitError::no_receive_queue;
  if (!device_.setup_queue(transmit_queue, tx_)) return InitError::no_transmit_queue;
  read_config((device_.features() & feature_mac) != 0);

  // Transmit completions are reaped on the next send; an interrupt for each would only cost exits.
  tx_.set_interrupts(false);
  tx_free_count_ = 0;
  for (uint16_t slot = 0; slot < tx_.size(); ++slot) tx_free_slots_[tx_free_count_++] = slot;
  for (uint16_t slot = 0; slot < rx_.size(); ++slot) post_receive_buffer(slot);
  interrupt_.enable(info_);  // polling if it fails
  if (!device_.finish_init()) return InitError::device_failed;
  // Notifications only after DRIVER_OK (spec 3.1.1); the buffers were posted before it.
  device_.notify(receive_queue);
  return InitError::none;
}

void NetDevice::read_config(bool want_mac) {
  const bool want_mtu = (device_.features() & feature_mtu) != 0;
  // Retried while the configuration generation moves, so MAC bytes and MTU come from one version
  // (spec 2.5.1).
  for (int attempt = 0; attempt < max_config_reads; ++attempt) {
    const uint32_t before = device_.config_generation();
    if (want_mac) {
      for (uint32_t i = 0; i < 6; ++i) mac_.bytes[i] = device_.config8(config_mac + i);
    }
    if (want_mtu) mtu_ = device_.config16(config_mtu);
    if (device_.config_generation() == before) break;
  }
  if (mtu_ < min_mtu || mtu_ > kDefaultMtu) mtu_ = kDefaultMtu;
  if (!want_mac || mac_.is_group() || mac_.is_zero()) {
    // Spec 5.1.5: without a device MAC the driver makes one up; locally administered, unicast.
    const uint64_t seed = cpu::rdtsc() * 0x9e3779b97f4a7c15ULL;
    mac_.bytes[0] = 0x02;
    for (int i = 1; i < 6; ++i) mac_.bytes[i] = static_cast<uint8_t>(seed >> (8 * i));
  }
}

void NetDevice::post_receive_buffer(uint16_t slot) {
  const DriverBuffer buffer{rx_buffers_[slot], kBufferSize, true};
  const int head = rx_.add(&buffer, 1);
  // A slot is posted only after its descriptor came back, so there is always room.
  if (head >= 0) rx_slot_of_head_[head] = slot;
}

size_t NetDevice::receive(void* frame, size_t capacity) {
  for (;;) {
    uint16_t head = 0;
    uint32_t written = 0;
    if (!rx_.take_used(head, written)) return 0;
    const uint16_t slot = rx_slot_of_head_[head];
    size_t size = 0;
    // The used length is the device's word, checked like any other: it must cover the header and
    // stay inside the buffer.
    if (written > kHeaderSize && written <= kBufferSize && written - kHeaderSize <= capacity) {
      size = written - kHeaderSize;
      __builtin_memcpy(frame, rx_buffers_[slot] + kHeaderSize, size);
    } else {
      ++counters_.rx_dropped;
    }
    post_receive_buffer(slot);
    if (rx_.notification_wanted()) device_.notify(receive_queue);
    if (size != 0) {
      ++counters_.received;
      return size;
    }
  }
}

void NetDevice::reap_transmitted() {
  uint16_t head = 0;
  uint32_t written = 0;
  while (tx_.take_used(head, written)) {
    if (tx_free_count_ < tx_.size()) tx_free_slots_[tx_free_count_++] = tx_slot_of_head_[head];
  }
}

net::SendResult NetDevice::send(const void* frame, size_t size) {
  if (size < net::ethernet_header_size || size > net::ethernet_header_size + mtu_) return net::SendResult::too_long;
  reap_transmitted();
  if (tx_free_count_ == 0 || tx_.free_descriptors() == 0) {
    ++counters_.tx_busy;
    return net::SendResult::busy;
  }
  const uint16_t slot = tx_free_slots_[--tx_free_count_];
  uint8_t* buffer = tx_buffers_[slot];
  // An all-zero header: no checksum to fill in, GSO_NONE (spec 5.1.6.2).
  __builtin_memset(buffer, 0, kHeaderSize);
  __builtin_memcpy(buffer + kHeaderSize, frame, size);
  const DriverBuffer descriptor{buffer, static_cast<uint32_t>(kHeaderSize + size), false};
  const int head = tx_.add(&descriptor, 1);
  if (head < 0) {
    tx_free_slots_[tx_free_count_++] = slot;
    return net::SendResult::busy;
  }
  tx_slot_of_head_[head] = slot;
  if (tx_.notification_wanted()) device_.notify(transmit_queue);
  ++counters_.sent;
  return net::SendResult::sent;
}

bool NetDevice::wait_receive(const time::Deadline& deadline) {
  return interrupt_.wait_until([this] { return rx_.has_used(); }, deadline);
}

bool NetDevice::wait_sent(const time::Deadline& deadline) {
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

bool NetDevice::wait_send(const time::Deadline& deadline) {
  reap_transmitted();
  if (tx_free_count_ != 0) return true;
  // Completions interrupt only while someone waits for them.
  tx_.set_interrupts(true);
  const bool room = interrupt_.wait_until([this] { return tx_.has_used(); }, deadline);
  tx_.set_interrupts(false);
  return room;
}

}  // namespace guest::virtio
