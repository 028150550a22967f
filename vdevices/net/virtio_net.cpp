// VirtioNet: the virtio network device (spec 5.1) over a FrameBackend.
#include "net/virtio_net.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

#include <fmt/format.h>

#include "virtio/chain_copy.hpp"
#include "virtio/serve.hpp"

namespace tilehv::vdevices {
namespace {

constexpr const char* kStateKind = "virtio-net";
constexpr std::uint16_t kLinkUp = 1;  // VIRTIO_NET_S_LINK_UP

// The 16-bit ones'-complement sum that completes a partial checksum (RFC 1071): the driver has put
// the pseudo-header sum in the checksum field already (spec 5.1.6.2).
std::uint16_t internet_checksum(std::span<const std::uint8_t> data) {
  std::uint64_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += (std::uint32_t{data[i]} << 8) | data[i + 1];
  if (i < data.size()) sum += std::uint32_t{data[i]} << 8;
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }

}  // namespace

VirtioNet::VirtioNet(const memory::GuestMemory& memory, FrameBackend& backend, const VirtioNetConfig& config,
                     GuestErrorReporter* reporter)
    : memory_(memory), backend_(backend), config_(config), reporter_(reporter) {
  const std::size_t frame = std::min<std::size_t>(backend.max_frame(), std::size_t{config.mtu} + kEthernetOverhead);
  tx_buffer_.reserve(kNetHeaderBytes + frame);
  rx_buffer_.resize(kNetHeaderBytes + backend.max_frame());
}

std::uint64_t VirtioNet::offered_features() const noexcept {
  return virtio::kFeatureVersion1 | virtio::kFeatureIndirectDesc | virtio::kFeatureEventIdx | kNetFeatureCsum |
         kNetFeatureMtu | kNetFeatureMac | kNetFeatureStatus;
}

void VirtioNet::read_config(std::uint32_t offset, std::span<std::uint8_t> data) noexcept {
  // struct virtio_net_config: mac[6], status, max_virtqueue_pairs, mtu (little endian).
  std::uint8_t config[12] = {};
  std::memcpy(config, config_.mac.bytes.data(), 6);
  config[6] = kLinkUp;
  config[8] = 1;
  config[10] = static_cast<std::uint8_t>(config_.mtu);
  config[11] = static_cast<std::uint8_t>(config_.mtu >> 8);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = offset + i < sizeof config ? config[offset + i] : 0;
}

tl::expected<void, std::string> VirtioNet::activate(virtio::ActiveQueues queues, virtio::VirtioInterrupt& interrupt) {
  std::optional<virtio::SplitQueue> rx, tx;
  for (std::size_t i = 0; i < queues.queues.size(); ++i) {
    if (queues.queue_indices[i] == kReceiveQueue) rx.emplace(std::move(queues.queues[i]));
    if (queues.queue_indices[i] == kTransmitQueue) tx.emplace(std::move(queues.queues[i]));
  }
  if (!rx || !tx) return tl::unexpected(std::string("virtio-net needs its receive (0) and transmit (1) queues ready"));
  {
    std::lock_guard lock(mutex_);
    features_ = queues.features;
    rx_ = std::move(rx);
    tx_ = std::move(tx);
    interrupt_ = &interrupt;
  }
  // Frames may have waited in the backend while the driver was setting up: the device looks at them
  // on its worker's next turn, and is woken for every later one.
  backend_.arm();
  return {};
}

void VirtioNet::reattach(virtio::VirtioInterrupt& interrupt) noexcept {
  std::lock_guard lock(mutex_);
  if (rx_ && tx_) interrupt_ = &interrupt;
}

void VirtioNet::reset() noexcept {
  std::lock_guard lock(mutex_);
  rx_.reset();
  tx_.reset();
  features_ = 0;
  interrupt_ = nullptr;
}

tl::expected<void, std::string> VirtioNet::notify(std::uint16_t queue) noexcept {
  return serve(queue == kTransmitQueue, queue == kReceiveQueue);
}

tl::expected<void, std::string> VirtioNet::backend_ready() noexcept {
  backend_.consume_wake();
  return serve(true, true);
}

tl::expected<void, std::string> VirtioNet::serve(bool tx, bool rx) noexcept {
  return virtio::serve_then_signal(mutex_, "virtio-net", [&]() -> tl::expected<virtio::VirtioInterrupt*, std::string> {
    if (!rx_ || !tx_) return nullptr;
    auto wanted = virtio::transmit_and_receive(tx, rx, [this] { return transmit(); }, [this] { return receive(); });
    if (!wanted) return tl::unexpected(wanted.error());
    return *wanted ? interrupt_ : nullptr;
  });
}

bool VirtioNet::prepare_frame(std::vector<std::uint8_t>& packet) {
  const std::uint8_t* header = packet.data();
  const std::uint8_t flags = header[0];
  const std::uint8_t gso = header[1];
  if (gso != kNetGsoNone) return false;  // no segmentation offload was offered
  if ((flags & kNetHeaderNeedsCsum) != 0) {
    if ((features_ & kNetFeatureCsum) == 0) return false;
    const std::size_t start = le16(header + 6);
    const std::size_t offset = le16(header + 8);
    const std::size_t frame_length = packet.size() - kNetHeaderBytes;
    if (start + offset + 2 > frame_length || offset + 2 > frame_length) return false;
    std::uint8_t* frame = packet.data() + kNetHeaderBytes;
    const std::uint16_t sum = internet_checksum({frame + start, frame_length - start});
    frame[start + offset] = static_cast<std::uint8_t>(sum >> 8);
    frame[start + offset + 1] = static_cast<std::uint8_t>(sum);
  }
  return true;
}

tl::expected<bool, std::string> VirtioNet::transmit() {
  // While the device drains the queue the driver need not kick it (VRING_USED_F_NO_NOTIFY or the event
  // index): a burst of frames then costs the guest one kick, not one per frame.
  if (auto n = tx_->set_notifications(false); !n) return tl::unexpected(n.error().message);
  bool used_any = false;
  for (;;) {
    auto drained = transmit_available();
    if (!drained) return tl::unexpected(drained.error());
    used_any = used_any || drained->used_any;
    // A full backend wakes the device when it has room: kicks until then would be wasted.
    if (drained->backend_full) break;
    if (auto n = tx_->set_notifications(true); !n) return tl::unexpected(n.error().message);
    // A frame made available between the last pop and re-enabling would otherwise wait for a kick
    // that the driver, having seen notifications off, never sends.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    auto more = tx_->pop();
    if (!more) return tl::unexpected(more.error().message);
    if (!more->has_value()) break;
    tx_->undo_pop();
    if (auto n = tx_->set_notifications(false); !n) return tl::unexpected(n.error().message);
  }
  if (!used_any) return false;
  auto wanted = tx_->needs_interrupt();
  if (!wanted) return tl::unexpected(wanted.error().message);
  return *wanted;
}

tl::expected<VirtioNet::Drained, std::string> VirtioNet::transmit_available() {
  Drained result;
  const std::uint64_t max_packet = kNetHeaderBytes + std::min<std::uint64_t>(backend_.max_frame(), std::uint64_t{config_.mtu} + kEthernetOverhead);
  for (;;) {
    auto next = tx_->pop();
    if (!next) return tl::unexpected(next.error().message);
    if (!next->has_value()) break;
    const virtio::DescriptorChain& chain = **next;
    bool drop = chain.readable_bytes < kNetHeaderBytes + 14 || chain.readable_bytes > max_packet;
    if (!drop && !backend_broken_) {
      tx_buffer_.resize(chain.readable_bytes);
      if (auto copied = virtio::gather(memory_, chain, tx_buffer_); !copied) return tl::unexpected(copied.error());
      drop = !prepare_frame(tx_buffer_);
      if (!drop) {
        auto sent = backend_.send({tx_buffer_.data() + kNetHeaderBytes, tx_buffer_.size() - kNetHeaderBytes});
        if (!sent) {
          backend_failed(sent.error());
        } else if (*sent == FrameSendStatus::kFull) {
          // The backend wakes the device when it has room; the guest's frame stays queued.
          tx_->undo_pop();
          metrics_.tx_backend_full.fetch_add(1, std::memory_order_relaxed);
          result.backend_full = true;
          break;
        } else {
          metrics_.tx_frames.fetch_add(1, std::memory_order_relaxed);
          metrics_.tx_bytes.fetch_add(tx_buffer_.size() - kNetHeaderBytes, std::memory_order_relaxed);
        }
      }
    }
    if (drop) {
      const std::uint64_t n = metrics_.tx_malformed.fetch_add(1, std::memory_order_relaxed);
      if (reporter_ != nullptr && n < 4) {
        reporter_->guest_error("virtio-net", fmt::format("dropped a transmitted frame of {} bytes with its header "
                                                          "(malformed header or outside 26..{} bytes)",
                                                          chain.readable_bytes, max_packet));
      }
    }
    if (auto u = tx_->push_used(chain.head, 0); !u) return tl::unexpected(u.error().message);
    result.used_any = true;
  }
  return result;
}

tl::expected<bool, std::string> VirtioNet::receive() {
  bool used_any = false;
  while (!backend_broken_) {
    auto length = backend_.next_length();
    if (!length) {
      backend_failed(length.error());
      break;
    }
    if (!length->has_value()) {
      // Nothing waiting: ask the backend to wake the device for the next frame, unless one arrived.
      if (backend_.prepare_to_sleep()) break;
      continue;
    }
    auto next = rx_->pop();
    if (!next) return tl::unexpected(next.error().message);
    if (!next->has_value()) {
      // Starved: only now does the device need the driver's kick for new buffers. Re-check after
      // asking, or a buffer added in between would wait for a kick that never comes.
      if (auto n = rx_->set_notifications(true); !n) return tl::unexpected(n.error().message);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      next = rx_->pop();
      if (!next) return tl::unexpected(next.error().message);
      // Still none: the frame waits in the backend until the driver adds a buffer and kicks.
      if (!next->has_value()) break;
    }
    // Buffers are there: while frames flow, the driver refills without kicking (the backend's wake,
    // not the driver, tells the device when to look again).
    if (auto n = rx_->set_notifications(false); !n) return tl::unexpected(n.error().message);
    const virtio::DescriptorChain& chain = **next;
    auto got = backend_.receive({rx_buffer_.data() + kNetHeaderBytes, rx_buffer_.size() - kNetHeaderBytes});
    if (!got) {
      rx_->undo_pop();
      backend_failed(got.error());
      break;
    }
    if (!got->has_value()) {
      rx_->undo_pop();
      continue;
    }
    const std::uint64_t packet = kNetHeaderBytes + **got;
    if (packet > chain.writable_bytes) {
      // The guest's buffer cannot hold this frame: drop the frame, keep the buffer for the next one.
      rx_->undo_pop();
      metrics_.rx_too_big.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    // The header: no flags, no segmentation, one buffer (spec 5.1.6.3.1).
    std::fill_n(rx_buffer_.begin(), kNetHeaderBytes, std::uint8_t{0});
    rx_buffer_[10] = 1;
    if (auto copied = virtio::scatter(memory_, chain, {rx_buffer_.data(), packet}); !copied) {
      return tl::unexpected(copied.error());
    }
    if (auto u = rx_->push_used(chain.head, static_cast<std::uint32_t>(packet)); !u) return tl::unexpected(u.error().message);
    metrics_.rx_frames.fetch_add(1, std::memory_order_relaxed);
    metrics_.rx_bytes.fetch_add(**got, std::memory_order_relaxed);
    used_any = true;
  }
  if (!used_any) return false;
  auto wanted = rx_->needs_interrupt();
  if (!wanted) return tl::unexpected(wanted.error().message);
  return *wanted;
}

void VirtioNet::backend_failed(const std::string& what) {
  if (backend_broken_) return;
  backend_broken_ = true;
  metrics_.backend_failures.fetch_add(1, std::memory_order_relaxed);
  // Not the guest's doing: the link is down from now on, frames the guest sends are dropped.
  try {
    fmt::print(stderr, "tilehv: virtio-net backend {} failed, link down: {}\n", backend_.describe(), what);
  } catch (...) {
  }
}

DeviceState VirtioNet::save_state() const {
  std::lock_guard lock(mutex_);
  StateWriter w;
  w.u64(features_);
  w.boolean(rx_.has_value() && tx_.has_value());
  if (rx_ && tx_) {
    rx_->save(w);
    tx_->save(w);
  }
  return DeviceState{kStateKind, 1, w.take()};
}

tl::expected<void, StateError> VirtioNet::restore_state(const DeviceState& state) {
  if (auto ok = check_state_header(state, kStateKind, 1); !ok) return ok;
  StateReader r(state.payload);
  auto features = r.u64();
  auto active = r.boolean();
  if (!features || !active) return tl::unexpected(StateError{"virtio-net state truncated"});
  std::optional<virtio::SplitQueue> rx, tx;
  if (*active) {
    auto restored_rx = virtio::SplitQueue::restore(r, memory_);
    if (!restored_rx) return tl::unexpected(StateError{"virtio-net receive queue: " + restored_rx.error().message});
    auto restored_tx = virtio::SplitQueue::restore(r, memory_);
    if (!restored_tx) return tl::unexpected(StateError{"virtio-net transmit queue: " + restored_tx.error().message});
    rx.emplace(std::move(*restored_rx));
    tx.emplace(std::move(*restored_tx));
  }
  if (!r.at_end()) return tl::unexpected(StateError{"virtio-net state has trailing bytes"});
  if ((*features & ~offered_features()) != 0) {
    return tl::unexpected(StateError{fmt::format("virtio-net state negotiated features {:#x} this device does not offer", *features)});
  }
  std::lock_guard lock(mutex_);
  features_ = *features;
  rx_ = std::move(rx);
  tx_ = std::move(tx);
  interrupt_ = nullptr;  // until the transport's restore reattaches it
  return {};
}

}  // namespace tilehv::vdevices
