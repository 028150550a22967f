// VirtioVsock: the virtio socket device (spec 5.10), relaying stream packets to an I/O-plane port.
#include "vsock/virtio_vsock.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "virtio/chain_copy.hpp"
#include "virtio/serve.hpp"

namespace tilehv::vdevices {
namespace {

constexpr const char* kStateKind = "virtio-vsock";
constexpr std::uint64_t kMaxPacket = vsock::kHeaderBytes + vsock::kMaxPayload;

}  // namespace

VirtioVsock::VirtioVsock(const memory::GuestMemory& memory, port::PortEndpoint& port, std::uint64_t guest_cid,
                         GuestErrorReporter* reporter)
    : memory_(memory), port_(port), guest_cid_(guest_cid), reporter_(reporter) {
  tx_buffer_.reserve(kMaxPacket);
  rx_buffer_.reserve(kMaxPacket);
}

void VirtioVsock::read_config(std::uint32_t offset, std::span<std::uint8_t> data) noexcept {
  std::uint8_t config[8];
  std::memcpy(config, &guest_cid_, sizeof config);  // le64 guest_cid
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = offset + i < sizeof config ? config[offset + i] : 0;
}

tl::expected<void, std::string> VirtioVsock::activate(virtio::ActiveQueues queues, virtio::VirtioInterrupt& interrupt) {
  std::optional<virtio::SplitQueue> rx, tx, event;
  for (std::size_t i = 0; i < queues.queues.size(); ++i) {
    if (queues.queue_indices[i] == kReceiveQueue) rx.emplace(std::move(queues.queues[i]));
    if (queues.queue_indices[i] == kTransmitQueue) tx.emplace(std::move(queues.queues[i]));
    if (queues.queue_indices[i] == kEventQueue) event.emplace(std::move(queues.queues[i]));
  }
  if (!rx || !tx) return tl::unexpected(std::string("virtio-vsock needs its receive (0) and transmit (1) queues ready"));
  std::lock_guard lock(mutex_);
  features_ = queues.features;
  rx_ = std::move(rx);
  tx_ = std::move(tx);
  event_ = std::move(event);
  interrupt_ = &interrupt;
  // Packets may have waited in the port: the device looks at them on its worker's next turn, and is
  // woken for every later one.
  port_.arm();
  return {};
}

void VirtioVsock::reattach(virtio::VirtioInterrupt& interrupt) noexcept {
  std::lock_guard lock(mutex_);
  if (rx_ && tx_) interrupt_ = &interrupt;
}

void VirtioVsock::reset() noexcept {
  std::lock_guard lock(mutex_);
  rx_.reset();
  tx_.reset();
  event_.reset();
  features_ = 0;
  interrupt_ = nullptr;
  // Connections of the old driver are gone; the peers learn it from their own timeouts or resets.
  pending_.clear();
  pending_offset_ = 0;
}

tl::expected<void, std::string> VirtioVsock::notify(std::uint16_t queue) noexcept {
  return serve(queue == kTransmitQueue, queue == kReceiveQueue);
}

tl::expected<void, std::string> VirtioVsock::port_ready() noexcept {
  port_.consume_wake();
  return serve(true, true);
}

tl::expected<void, std::string> VirtioVsock::serve(bool tx, bool rx) noexcept {
  return virtio::serve_then_signal(mutex_, "virtio-vsock", [&]() -> tl::expected<virtio::VirtioInterrupt*, std::string> {
    if (!rx_ || !tx_) return nullptr;
    auto wanted = virtio::transmit_and_receive(tx, rx, [this] { return transmit(); }, [this] { return receive(); });
    if (!wanted) return tl::unexpected(wanted.error());
    return *wanted ? interrupt_ : nullptr;
  });
}

void VirtioVsock::report(const std::string& what, std::atomic<std::uint64_t>& counter) {
  const std::uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  if (reporter_ != nullptr && n < 4) reporter_->guest_error("virtio-vsock", what);
}

void VirtioVsock::port_failed(const std::string& what) {
  if (port_broken_) return;
  port_broken_ = true;
  metrics_.port_failures.fetch_add(1, std::memory_order_relaxed);
  try {
    fmt::print(stderr, "tilehv: virtio-vsock port failed, channels down: {}\n", what);
  } catch (...) {
  }
}

tl::expected<bool, std::string> VirtioVsock::transmit() {
  bool used_any = false;
  for (;;) {
    auto next = tx_->pop();
    if (!next) return tl::unexpected(next.error().message);
    if (!next->has_value()) break;
    const virtio::DescriptorChain& chain = **next;
    if (chain.readable_bytes > kMaxPacket || chain.readable_bytes < vsock::kHeaderBytes) {
      report(fmt::format("dropped a {}-byte packet (44 to {} bytes allowed)", chain.readable_bytes, kMaxPacket),
             metrics_.tx_malformed);
    } else if (!port_broken_) {
      tx_buffer_.resize(chain.readable_bytes);
      if (auto copied = virtio::gather(memory_, chain, tx_buffer_); !copied) return tl::unexpected(copied.error());
      const vsock::PacketHeader header = vsock::read_header(tx_buffer_);
      if (auto bad = vsock::check_packet(tx_buffer_)) {
        report("dropped a packet: " + *bad, metrics_.tx_malformed);
      } else if (header.src_cid != guest_cid_) {
        report(fmt::format("dropped a packet claiming source CID {} (the guest's is {})", header.src_cid, guest_cid_),
               metrics_.tx_spoofed);
      } else {
        auto sent = port_.send(tx_buffer_);
        if (!sent) {
          port_failed(sent.error().message);
        } else if (*sent == port::PushResult::kFull) {
          tx_->undo_pop();  // the port wakes the device when it has room
          metrics_.tx_port_full.fetch_add(1, std::memory_order_relaxed);
          break;
        } else {
          metrics_.tx_packets.fetch_add(1, std::memory_order_relaxed);
        }
      }
    }
    if (auto u = tx_->push_used(chain.head, 0); !u) return tl::unexpected(u.error().message);
    used_any = true;
  }
  if (!used_any) return false;
  auto wanted = tx_->needs_interrupt();
  if (!wanted) return tl::unexpected(wanted.error().message);
  return *wanted;
}

tl::expected<bool, std::string> VirtioVsock::receive() {
  bool used_any = false;
  while (!port_broken_) {
    if (pending_.empty()) {
      auto length = port_.peek_length();
      if (!length) {
        port_failed(length.error().message);
        break;
      }
      if (!length->has_value()) {
        if (port_.prepare_to_sleep()) break;
        continue;
      }
      pending_.resize(**length);
      auto got = port_.receive(pending_);
      if (!got || !got->has_value()) {
        pending_.clear();
        if (!got) port_failed(got.error().message);
        break;
      }
      pending_offset_ = 0;
      // The router checked the packet; the device checks again that it is whole and for this guest.
      if (vsock::check_packet(pending_) || vsock::read_header(pending_).dst_cid != guest_cid_) {
        metrics_.rx_dropped.fetch_add(1, std::memory_order_relaxed);
        pending_.clear();
        continue;
      }
    }
    auto next = rx_->pop();
    if (!next) return tl::unexpected(next.error().message);
    if (!next->has_value()) break;  // no buffer: the packet waits until the driver adds one and kicks
    const virtio::DescriptorChain& chain = **next;
    vsock::PacketHeader header = vsock::read_header(pending_);
    const std::uint32_t remaining = header.len - pending_offset_;
    if (chain.writable_bytes < vsock::kHeaderBytes + (remaining != 0 ? 1 : 0)) {
      // A buffer too small for even a header (and a byte of data): the guest's mistake, not fatal.
      report(fmt::format("receive buffer of {} bytes cannot hold a packet", chain.writable_bytes), metrics_.rx_dropped);
      if (auto u = rx_->push_used(chain.head, 0); !u) return tl::unexpected(u.error().message);
      used_any = true;
      continue;
    }
    const auto part = static_cast<std::uint32_t>(std::min<std::uint64_t>(remaining, chain.writable_bytes - vsock::kHeaderBytes));
    if (part < remaining) metrics_.rx_split.fetch_add(1, std::memory_order_relaxed);
    header.len = part;
    // The header with this part's length, then the part, into the chain's writable buffers.
    const std::uint64_t total = vsock::kHeaderBytes + part;
    rx_buffer_.resize(total);
    std::memcpy(rx_buffer_.data(), &header, vsock::kHeaderBytes);
    std::memcpy(rx_buffer_.data() + vsock::kHeaderBytes, pending_.data() + vsock::kHeaderBytes + pending_offset_, part);
    if (auto copied = virtio::scatter(memory_, chain, rx_buffer_); !copied) return tl::unexpected(copied.error());
    if (auto u = rx_->push_used(chain.head, static_cast<std::uint32_t>(total)); !u) return tl::unexpected(u.error().message);
    used_any = true;
    pending_offset_ += part;
    if (pending_offset_ == vsock::read_header(pending_).len) {
      pending_.clear();
      pending_offset_ = 0;
      metrics_.rx_packets.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (!used_any) return false;
  auto wanted = rx_->needs_interrupt();
  if (!wanted) return tl::unexpected(wanted.error().message);
  return *wanted;
}

DeviceState VirtioVsock::save_state() const {
  std::lock_guard lock(mutex_);
  StateWriter w;
  w.u64(guest_cid_);
  w.u64(features_);
  w.boolean(rx_.has_value() && tx_.has_value());
  if (rx_ && tx_) {
    rx_->save(w);
    tx_->save(w);
    w.boolean(event_.has_value());
    if (event_) event_->save(w);
  }
  w.blob(pending_);
  w.u32(pending_offset_);
  return DeviceState{kStateKind, 1, w.take()};
}

tl::expected<void, StateError> VirtioVsock::restore_state(const DeviceState& state) {
  if (auto ok = check_state_header(state, kStateKind, 1); !ok) return ok;
  StateReader r(state.payload);
  auto cid = r.u64();
  auto features = r.u64();
  auto active = r.boolean();
  if (!cid || !features || !active) return tl::unexpected(StateError{"virtio-vsock state truncated"});
  if (*cid != guest_cid_) {
    return tl::unexpected(StateError{fmt::format("virtio-vsock state is for CID {}, this device has CID {}", *cid, guest_cid_)});
  }
  std::optional<virtio::SplitQueue> rx, tx, event;
  if (*active) {
    auto q_rx = virtio::SplitQueue::restore(r, memory_);
    if (!q_rx) return tl::unexpected(StateError{"virtio-vsock receive queue: " + q_rx.error().message});
    auto q_tx = virtio::SplitQueue::restore(r, memory_);
    if (!q_tx) return tl::unexpected(StateError{"virtio-vsock transmit queue: " + q_tx.error().message});
    auto has_event = r.boolean();
    if (!has_event) return tl::unexpected(has_event.error());
    if (*has_event) {
      auto q_event = virtio::SplitQueue::restore(r, memory_);
      if (!q_event) return tl::unexpected(StateError{"virtio-vsock event queue: " + q_event.error().message});
      event.emplace(std::move(*q_event));
    }
    rx.emplace(std::move(*q_rx));
    tx.emplace(std::move(*q_tx));
  }
  auto pending = r.blob(kMaxPacket);
  auto offset = r.u32();
  if (!pending || !offset) return tl::unexpected(StateError{"virtio-vsock pending packet truncated"});
  if (!r.at_end()) return tl::unexpected(StateError{"virtio-vsock state has trailing bytes"});
  if (!pending->empty() && (vsock::check_packet(*pending) || *offset > vsock::read_header(*pending).len ||
                            (*offset != 0 && *offset == vsock::read_header(*pending).len))) {
    return tl::unexpected(StateError{"virtio-vsock pending packet is malformed"});
  }
  if (pending->empty() && *offset != 0) return tl::unexpected(StateError{"virtio-vsock pending offset without a packet"});
  if ((*features & ~offered_features()) != 0) return tl::unexpected(StateError{"virtio-vsock state has features not offered"});
  std::lock_guard lock(mutex_);
  features_ = *features;
  rx_ = std::move(rx);
  tx_ = std::move(tx);
  event_ = std::move(event);
  pending_ = std::move(*pending);
  pending_offset_ = *offset;
  interrupt_ = nullptr;  // until the transport's restore reattaches it
  return {};
}

}  // namespace tilehv::vdevices
