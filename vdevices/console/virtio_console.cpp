// VirtioConsole: the virtio console device (spec 5.3) with VIRTIO_CONSOLE_F_MULTIPORT: named ports,
// each a byte stream to a host backend, announced to the driver over the control queues.
#include "console/virtio_console.hpp"

#include <algorithm>
#include <cstring>
#include <set>

#include <fmt/format.h>

namespace tilehv::vdevices {
namespace {

bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

std::vector<std::uint16_t> queue_sizes_for(std::size_t ports) {
  return std::vector<std::uint16_t>(2 * (ports + 1), VirtioConsole::kQueueSize);
}

}  // namespace

tl::expected<std::unique_ptr<VirtioConsole>, std::string> VirtioConsole::create(const memory::GuestMemory& memory,
                                                                                std::vector<ConsolePortConfig> ports) {
  if (ports.empty() || ports.size() > kMaxPorts) {
    return tl::unexpected(fmt::format("a console has 1 to {} ports, not {}", kMaxPorts, ports.size()));
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const ConsolePortConfig& p = ports[i];
    if (p.backend == nullptr) return tl::unexpected(fmt::format("console port {} has no backend", i));
    if (p.is_console && i != 0) {
      // Spec 5.3.6.2 and Linux: only port 0 becomes the hvc console.
      return tl::unexpected(fmt::format("console port {} cannot be a console: only port 0 can", i));
    }
    // The name becomes a sysfs attribute and a /dev/virtio-ports/ link in a Linux guest.
    if (p.name.size() > kMaxNameLength || !std::all_of(p.name.begin(), p.name.end(), valid_name_char)) {
      return tl::unexpected(fmt::format("console port {} name '{}' is not up to {} characters of [A-Za-z0-9._-]", i,
                                        p.name, kMaxNameLength));
    }
    if (!p.name.empty() && !names.insert(p.name).second) {
      return tl::unexpected(fmt::format("console port name '{}' is used twice", p.name));
    }
  }
  return std::unique_ptr<VirtioConsole>(new VirtioConsole(memory, std::move(ports)));
}

VirtioConsole::VirtioConsole(const memory::GuestMemory& memory, std::vector<ConsolePortConfig> ports)
    : memory_(memory), config_(std::move(ports)), queue_sizes_(queue_sizes_for(config_.size())),
      pushed_(queue_sizes_.size(), false), ports_(config_.size()) {}

void VirtioConsole::read_config(std::uint32_t offset, std::span<std::uint8_t> data) noexcept {
  // struct virtio_console_config: le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr.
  std::uint8_t config[12] = {};
  const std::uint32_t ports = port_count();
  std::memcpy(config + 4, &ports, 4);  // x86 is little-endian, as virtio 1.x is
  if (offset > sizeof config) return;
  const std::size_t n = std::min<std::size_t>(data.size(), sizeof config - offset);
  std::memcpy(data.data(), config + offset, n);
}

tl::expected<void, std::string> VirtioConsole::activate(virtio::ActiveQueues active, virtio::VirtioInterrupt& interrupt) {
  const bool multiport = (active.features & kFeatureConsoleMultiport) != 0;
  std::vector<std::optional<virtio::SplitQueue>> queues(queue_sizes_.size());
  for (std::size_t i = 0; i < active.queues.size(); ++i) {
    const std::uint16_t index = active.queue_indices[i];
    if (index >= queues.size()) return tl::unexpected(fmt::format("virtio-console has no queue {}", index));
    queues[index].emplace(std::move(active.queues[i]));
  }
  // Spec 5.3.6.2: with MULTIPORT the driver must send DEVICE_READY, so it needs the control queues.
  if (multiport && (!queues[kControlReceiveQueue] || !queues[kControlTransmitQueue])) {
    return tl::unexpected(std::string("virtio-console: MULTIPORT negotiated but the control queues (2, 3) are not ready"));
  }
  std::lock_guard lock(mutex_);
  queues_ = std::move(queues);
  features_ = active.features;
  multiport_ = multiport;
  active_ = true;
  interrupt_ = &interrupt;
  return {};
}

tl::expected<void, std::string> VirtioConsole::notify(std::uint16_t queue_index) noexcept {
  virtio::VirtioInterrupt* signal = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (!active_ || queue_index >= queues_.size()) return {};
    Result served;
    if (queue_index == kControlReceiveQueue || queue_index == kControlTransmitQueue) {
      // Without MULTIPORT the control queues do not exist for the driver (spec 5.3.2).
      if (multiport_) served = serve_control();
    } else {
      const std::uint32_t port = queue_index < 2 ? 0 : queue_index / 2U - 1U;
      if (multiport_ || port == 0) served = serve_port(port);
    }
    if (!served) return served;
    auto wanted = interrupt_wanted();
    if (!wanted) return tl::unexpected(wanted.error());
    // A device restored while active has no interrupt until its transport's restore reattaches one.
    if (*wanted) signal = interrupt_;
  }
  // Outside the device lock: the transport takes its own lock to raise the interrupt, and it holds
  // that lock while it resets this device (see VirtioDevice).
  if (signal != nullptr) signal->used_buffers();
  return {};
}

void VirtioConsole::reattach(virtio::VirtioInterrupt& interrupt) noexcept {
  std::lock_guard lock(mutex_);
  if (active_) interrupt_ = &interrupt;
}

void VirtioConsole::reset() noexcept {
  std::lock_guard lock(mutex_);
  // Bytes still in the backends stay there for the next driver; chains belong to the old queues.
  active_ = false;
  features_ = 0;
  multiport_ = false;
  announced_ = false;
  queues_.clear();
  std::fill(pushed_.begin(), pushed_.end(), false);
  for (PortState& p : ports_) p = PortState{};
  outbox_.clear();
  opened_.clear();
  interrupt_ = nullptr;
}

ConsolePortStatus VirtioConsole::port_status(std::uint32_t port) const {
  std::lock_guard lock(mutex_);
  if (port >= ports_.size()) return {};
  const PortState& p = ports_[port];
  return ConsolePortStatus{announced_, p.guest_ready, port_receives(port), p.held_transmit.has_value()};
}

virtio::SplitQueue* VirtioConsole::queue(std::uint16_t index) {
  return index < queues_.size() && queues_[index] ? &*queues_[index] : nullptr;
}

tl::expected<std::optional<virtio::DescriptorChain>, std::string> VirtioConsole::next_chain(std::uint16_t index) {
  virtio::SplitQueue* q = queue(index);
  if (q == nullptr) return std::optional<virtio::DescriptorChain>{};
  auto chain = q->pop();
  if (!chain) return tl::unexpected(chain.error().message);
  if (chain->has_value()) return std::move(*chain);
  // Empty: ask for a kick at the next buffer (avail_event with EVENT_IDX), then look once more, or a
  // buffer made available before the driver saw the request would wait for nothing.
  if (auto armed = q->set_notifications(true); !armed) return tl::unexpected(armed.error().message);
  chain = q->pop();
  if (!chain) return tl::unexpected(chain.error().message);
  return std::move(*chain);
}

tl::expected<void, std::string> VirtioConsole::complete(std::uint16_t index, std::uint16_t head, std::uint32_t written) {
  virtio::SplitQueue* q = queue(index);
  if (q == nullptr) return tl::unexpected(fmt::format("queue {} vanished", index));
  if (auto used = q->push_used(head, written); !used) return tl::unexpected(used.error().message);
  pushed_[index] = true;
  return {};
}

tl::expected<bool, std::string> VirtioConsole::interrupt_wanted() {
  bool wanted = false;
  for (std::uint16_t i = 0; i < pushed_.size(); ++i) {
    if (!pushed_[i]) continue;
    pushed_[i] = false;
    virtio::SplitQueue* q = queue(i);
    if (q == nullptr) continue;
    // Every queue that got buffers is asked: with EVENT_IDX the answer also records what was signalled.
    auto w = q->needs_interrupt();
    if (!w) return tl::unexpected(w.error().message);
    wanted = wanted || *w;
  }
  return wanted;
}

bool VirtioConsole::port_receives(std::uint32_t port) const {
  // Without MULTIPORT port 0 is the console and always open (spec 5.3.6); with it, Linux discards
  // bytes that reach a port its side has not opened, so they wait in the backend instead.
  return multiport_ ? ports_[port].guest_open : (active_ && port == 0);
}

}  // namespace tilehv::vdevices
