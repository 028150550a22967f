// VirtioConsole, saved state (version 1): the queues, what the driver told the device about each port,
// the chains the device holds (with the bytes of a transmit chain already delivered) and the control
// messages not yet delivered. Port data itself is never held by the device: it is in guest memory or
// in the backends, which keep their own state.
#include <fmt/format.h>

#include "console/virtio_console.hpp"

namespace tilehv::vdevices {
namespace {

constexpr const char* kStateKind = "virtio-console";
constexpr std::uint16_t kStateVersion = 1;
// A chain has at most a queue's worth of descriptors plus one indirect table's.
constexpr std::uint32_t kMaxChainBuffers = virtio::kMaxQueueSize + virtio::kMaxIndirectDescriptors;

StateError bad(std::string message) { return StateError{"virtio-console state: " + std::move(message)}; }

void save_chain(StateWriter& w, const std::optional<virtio::DescriptorChain>& chain) {
  w.boolean(chain.has_value());
  if (!chain) return;
  w.u16(chain->head);
  w.u32(static_cast<std::uint32_t>(chain->buffers.size()));
  for (const virtio::Buffer& b : chain->buffers) {
    w.u64(b.address);
    w.u32(b.length);
    w.boolean(b.device_writable);
  }
}

// A saved chain is as hostile as a guest's: every buffer is checked against guest RAM again, and the
// order rule of spec 2.7.4.2 too.
tl::expected<std::optional<virtio::DescriptorChain>, StateError> restore_chain(StateReader& r,
                                                                               const memory::GuestMemory& memory,
                                                                               const virtio::SplitQueue* queue) {
  auto present = r.boolean();
  if (!present) return tl::unexpected(present.error());
  if (!*present) return std::optional<virtio::DescriptorChain>{};
  auto head = r.u16();
  auto count = r.u32();
  if (!head || !count) return tl::unexpected(bad("held chain truncated"));
  if (queue == nullptr || *head >= queue->layout().size) return tl::unexpected(bad(fmt::format("held chain {} outside its queue", *head)));
  if (*count > kMaxChainBuffers) return tl::unexpected(bad(fmt::format("held chain of {} buffers", *count)));
  virtio::DescriptorChain chain;
  chain.head = *head;
  bool seen_writable = false;
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto address = r.u64();
    auto length = r.u32();
    auto writable = r.boolean();
    if (!address || !length || !writable) return tl::unexpected(bad("held chain buffer truncated"));
    if (!memory.contains(*address, *length)) {
      return tl::unexpected(bad(fmt::format("held buffer [{:#x}, +{:#x}) is not inside guest RAM", *address, *length)));
    }
    if (!*writable && seen_writable) return tl::unexpected(bad("held chain has a readable buffer after a writable one"));
    seen_writable = seen_writable || *writable;
    chain.buffers.push_back(virtio::Buffer{*address, *length, *writable});
    (*writable ? chain.writable_bytes : chain.readable_bytes) += *length;
  }
  return std::optional<virtio::DescriptorChain>(std::move(chain));
}

bool is_device_event(std::uint16_t event) {
  using console::ControlEvent;
  return event == static_cast<std::uint16_t>(ControlEvent::kDeviceAdd) ||
         event == static_cast<std::uint16_t>(ControlEvent::kPortName) ||
         event == static_cast<std::uint16_t>(ControlEvent::kConsolePort) ||
         event == static_cast<std::uint16_t>(ControlEvent::kPortOpen);
}

}  // namespace

DeviceState VirtioConsole::save_state() const {
  std::lock_guard lock(mutex_);
  StateWriter w;
  w.boolean(active_);
  w.u64(features_);
  w.boolean(announced_);
  w.u32(static_cast<std::uint32_t>(queues_.size()));
  for (const auto& q : queues_) {
    w.boolean(q.has_value());
    if (q) q->save(w);
  }
  w.u32(static_cast<std::uint32_t>(ports_.size()));
  for (std::size_t i = 0; i < ports_.size(); ++i) {
    const PortState& p = ports_[i];
    // The name ties the record to the port's configuration: a state restores only onto the same ports.
    const std::string& name = config_[i].name;
    w.blob({reinterpret_cast<const std::uint8_t*>(name.data()), name.size()});
    w.boolean(p.guest_ready);
    w.boolean(p.guest_open);
    save_chain(w, p.held_receive);
    save_chain(w, p.held_transmit);
    w.u64(p.transmit_offset);
  }
  w.u32(static_cast<std::uint32_t>(outbox_.size()));
  for (const console::OutgoingMessage& m : outbox_) {
    w.u32(m.port);
    w.u16(static_cast<std::uint16_t>(m.event));
    w.u16(m.value);
  }
  return DeviceState{kStateKind, kStateVersion, w.take()};
}

tl::expected<void, StateError> VirtioConsole::restore_state(const DeviceState& state) {
  if (auto ok = check_state_header(state, kStateKind, kStateVersion); !ok) return ok;
  StateReader r(state.payload);
  // Decode everything into locals first: a bad record changes nothing.
  auto active = r.boolean();
  auto features = r.u64();
  auto announced = r.boolean();
  auto queue_count = r.u32();
  if (!active || !features || !announced || !queue_count) return tl::unexpected(bad("truncated"));
  if (*queue_count != (*active ? queue_sizes_.size() : 0)) {
    return tl::unexpected(bad(fmt::format("{} queues for a device with {}", *queue_count, queue_sizes_.size())));
  }
  std::vector<std::optional<virtio::SplitQueue>> queues(*queue_count);
  for (std::uint32_t i = 0; i < *queue_count; ++i) {
    auto present = r.boolean();
    if (!present) return tl::unexpected(present.error());
    if (!*present) continue;
    auto q = virtio::SplitQueue::restore(r, memory_);
    if (!q) return tl::unexpected(bad(fmt::format("queue {}: {}", i, q.error().message)));
    if (q->layout().size > queue_sizes_[i]) return tl::unexpected(bad(fmt::format("queue {} larger than its maximum", i)));
    queues[i].emplace(std::move(*q));
  }
  const bool multiport = (*features & kFeatureConsoleMultiport) != 0;
  if (*active && multiport && (!queues[kControlReceiveQueue] || !queues[kControlTransmitQueue])) {
    return tl::unexpected(bad("MULTIPORT without control queues"));
  }

  auto port_count_saved = r.u32();
  if (!port_count_saved) return tl::unexpected(port_count_saved.error());
  if (*port_count_saved != ports_.size()) {
    return tl::unexpected(bad(fmt::format("{} ports for a device with {}", *port_count_saved, ports_.size())));
  }
  const auto queue_or_none = [&](std::uint16_t index) -> const virtio::SplitQueue* {
    return index < queues.size() && queues[index] ? &*queues[index] : nullptr;
  };
  std::vector<PortState> ports(ports_.size());
  for (std::size_t i = 0; i < ports.size(); ++i) {
    auto name = r.blob(kMaxNameLength);
    if (!name) return tl::unexpected(name.error());
    if (std::string(name->begin(), name->end()) != config_[i].name) {
      return tl::unexpected(bad(fmt::format("port {} was '{}', the device's is '{}'", i,
                                            std::string(name->begin(), name->end()), config_[i].name)));
    }
    PortState& p = ports[i];
    auto ready = r.boolean();
    auto open = r.boolean();
    if (!ready || !open) return tl::unexpected(bad("port flags truncated"));
    p.guest_ready = *ready;
    p.guest_open = *open;
    const auto port = static_cast<std::uint32_t>(i);
    auto receive = restore_chain(r, memory_, queue_or_none(receive_queue(port)));
    if (!receive) return tl::unexpected(receive.error());
    auto transmit = restore_chain(r, memory_, queue_or_none(transmit_queue(port)));
    if (!transmit) return tl::unexpected(transmit.error());
    auto offset = r.u64();
    if (!offset) return tl::unexpected(offset.error());
    if (*receive && ((*receive)->readable_bytes != 0 || (*receive)->writable_bytes == 0)) {
      return tl::unexpected(bad(fmt::format("held receive chain of port {} is not device-writable", i)));
    }
    if (*transmit && ((*transmit)->writable_bytes != 0 || *offset > (*transmit)->readable_bytes)) {
      return tl::unexpected(bad(fmt::format("held transmit chain of port {} is malformed", i)));
    }
    if (!*transmit && *offset != 0) return tl::unexpected(bad(fmt::format("port {} offset without a chain", i)));
    p.held_receive = std::move(*receive);
    p.held_transmit = std::move(*transmit);
    p.transmit_offset = *offset;
  }

  auto outbox_count = r.u32();
  if (!outbox_count) return tl::unexpected(outbox_count.error());
  if (*outbox_count > 4 * ports_.size()) return tl::unexpected(bad(fmt::format("{} pending control messages", *outbox_count)));
  std::deque<console::OutgoingMessage> outbox;
  for (std::uint32_t i = 0; i < *outbox_count; ++i) {
    auto port = r.u32();
    auto event = r.u16();
    auto value = r.u16();
    if (!port || !event || !value) return tl::unexpected(bad("control message truncated"));
    if (*port >= ports_.size() || !is_device_event(*event) || *value > 1) {
      return tl::unexpected(bad(fmt::format("pending control message {} for port {}", *event, *port)));
    }
    outbox.push_back({*port, static_cast<console::ControlEvent>(*event), *value});
  }
  if (!r.at_end()) return tl::unexpected(bad("trailing bytes"));

  std::lock_guard lock(mutex_);
  // An active device needs the transport's interrupt: the transport's restore calls reattach().
  active_ = *active;
  features_ = *features;
  multiport_ = *active && multiport;
  announced_ = *announced;
  queues_ = std::move(queues);
  std::fill(pushed_.begin(), pushed_.end(), false);
  ports_ = std::move(ports);
  outbox_ = std::move(outbox);
  opened_.clear();
  interrupt_ = nullptr;
  return {};
}

}  // namespace tilehv::vdevices
