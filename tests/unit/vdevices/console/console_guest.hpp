// ConsoleGuest: a virtio-console driver for tests, over a real MmioTransport and guest memory, that
// behaves as Linux's virtio_console does (control buffers first, DEVICE_READY, PORT_READY after each
// DEVICE_ADD, PORT_OPEN after CONSOLE_PORT) and can break every rule on purpose.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "console/buffer_backend.hpp"
#include "console/control_message.hpp"
#include "console/virtio_console.hpp"
#include "support/mmio_driver.hpp"
#include "test_ring.hpp"
#include "virtio/mmio_transport.hpp"

namespace tilehv::testing {

struct ControlMsg {
  std::uint32_t id;
  std::uint16_t event;
  std::uint16_t value;
  std::string name;  // PORT_NAME only
  bool operator==(const ControlMsg&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const ControlMsg& m) {
  return os << "{" << m.id << ", " << vdevices::console::event_name(m.event) << ", " << m.value << ", '" << m.name << "'}";
}

constexpr std::uint16_t kEvAdd = 1, kEvReady = 3, kEvConsole = 4, kEvOpen = 6, kEvName = 7;
constexpr std::uint64_t kConsoleFeatures = vdevices::virtio::kFeatureVersion1 | vdevices::virtio::kFeatureIndirectDesc |
                                           vdevices::virtio::kFeatureEventIdx | vdevices::kFeatureConsoleMultiport;
constexpr std::uint32_t kNeedsReset = 0x40;

struct PortSpec {
  std::string name;
  bool is_console = false;
  std::size_t capacity = 4096;
  bool wakes = false;  // the backend wakes the port through the transport, as the VMM wires it
};

// The device with one BufferBackend per port, its transport, and the driver's rings and buffers.
class ConsoleGuest {
 public:
  static constexpr std::uint16_t kRingSize = 64;
  static constexpr std::uint64_t kRingBase = 0x100000;   // 64 KiB per queue
  static constexpr std::uint64_t kBufferBase = 0x800000;  // buffers, handed out upwards

  explicit ConsoleGuest(const std::vector<PortSpec>& ports)
      : memory_(std::make_unique<memory::GuestMemory>(*memory::GuestMemory::create(16 * memory::kMiB))) {
    std::vector<vdevices::ConsolePortConfig> config;
    for (const PortSpec& p : ports) {
      wakers_.push_back(std::make_unique<Waker>(*this, static_cast<std::uint32_t>(wakers_.size())));
      backends_.push_back(std::make_unique<vdevices::BufferBackend>(p.capacity, p.wakes ? wakers_.back().get() : nullptr));
      config.push_back({p.name, p.is_console, backends_.back().get()});
      names_.push_back(p.name);
      consoles_.push_back(p.is_console);
    }
    auto device = vdevices::VirtioConsole::create(*memory_, std::move(config));
    if (!device) ADD_FAILURE() << device.error();
    device_ = std::move(*device);
    transport_ = std::make_unique<vdevices::virtio::MmioTransport>(*device_, *memory_, line_);
    driver_ = std::make_unique<MmioDriver>(*transport_);
    rebuild_rings();
  }

  // Spec 3.1.1 with fresh rings for every queue the device has.
  bool bring_up(std::uint64_t features = kConsoleFeatures) {
    rebuild_rings();
    if (!driver_->negotiate(features)) return false;
    for (std::uint16_t q = 0; q < rings_.size(); ++q) driver_->setup_queue(q, rings_[q].layout());
    driver_->driver_ok();
    return driver_->status() == 0xf;
  }

  // Linux's probe and control handling: control buffers, DEVICE_READY, then PORT_READY for each
  // DEVICE_ADD (after filling the port's receive queue) and PORT_OPEN for a CONSOLE_PORT. Returns
  // every message the device sent.
  std::vector<ControlMsg> linux_handshake(int receive_buffers = 4) {
    add_control_buffers(32);
    send_control(vdevices::console::kNoPort, 0, 1);
    std::vector<ControlMsg> all;
    for (int round = 0; round < 8; ++round) {
      const auto msgs = receive_control();
      if (msgs.empty()) break;
      for (const ControlMsg& m : msgs) {
        all.push_back(m);
        if (m.event == kEvAdd) {
          add_receive_buffers(m.id, receive_buffers);
          send_control(m.id, kEvReady, 1);
        } else if (m.event == kEvConsole) {
          send_control(m.id, kEvOpen, 1);
        }
      }
    }
    return all;
  }

  std::uint64_t allocate(std::uint32_t length) {
    const std::uint64_t at = next_buffer_;
    next_buffer_ += (length + 63ULL) & ~63ULL;
    return at;
  }
  std::uint64_t put(const std::string& bytes) {
    const std::uint64_t at = allocate(static_cast<std::uint32_t>(bytes.size()));
    (void)memory_->write(at, {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
    return at;
  }
  std::string get(std::uint64_t address, std::uint32_t length) const {
    std::string out(length, '\0');
    (void)memory_->read(address, {reinterpret_cast<std::uint8_t*>(out.data()), length});
    return out;
  }

  void add_control_buffers(int count, std::uint32_t size = 4096) {
    for (int i = 0; i < count; ++i) rings_[2].add({{allocate(size), size, true}});
    driver_->notify(2);
  }
  void send_control(std::uint32_t id, std::uint16_t event, std::uint16_t value) {
    std::string raw(8, '\0');
    std::memcpy(raw.data(), &id, 4);
    std::memcpy(raw.data() + 4, &event, 2);
    std::memcpy(raw.data() + 6, &value, 2);
    send_raw_control({{put(raw), 8, false}});
  }
  void send_raw_control(const std::vector<TestBuffer>& chain) {
    rings_[3].add(chain);
    driver_->notify(3);
  }
  // Parses what the device returned on the control receive queue and gives the buffers back.
  std::vector<ControlMsg> receive_control() {
    std::vector<ControlMsg> out;
    for (const auto& u : rings_[2].take_used()) {
      const std::string raw = get(u.buffers.at(0).address, u.written);
      EXPECT_GE(raw.size(), 8U);
      if (raw.size() < 8) continue;
      ControlMsg m{};
      std::memcpy(&m.id, raw.data(), 4);
      std::memcpy(&m.event, raw.data() + 4, 2);
      std::memcpy(&m.value, raw.data() + 6, 2);
      if (m.event == kEvName) m.name = raw.substr(8);
      out.push_back(m);
      rings_[2].add(u.buffers);
    }
    if (!out.empty()) driver_->notify(2);
    return out;
  }

  void add_receive_buffers(std::uint32_t port, int count, std::uint32_t size = 64) {
    const auto q = vdevices::VirtioConsole::receive_queue(port);
    for (int i = 0; i < count; ++i) rings_[q].add({{allocate(size), size, true}});
    driver_->notify(q);
  }
  // The bytes the device delivered on a port, in order; the buffers go back into the queue.
  std::string receive(std::uint32_t port) {
    const auto q = vdevices::VirtioConsole::receive_queue(port);
    std::string out;
    bool requeued = false;
    for (const auto& u : rings_[q].take_used()) {
      std::uint32_t left = u.written;
      for (const TestBuffer& b : u.buffers) {
        const std::uint32_t n = std::min(left, b.length);
        out += get(b.address, n);
        left -= n;
      }
      rings_[q].add(u.buffers);
      requeued = true;
    }
    if (requeued) driver_->notify(q);
    return out;
  }
  // Sends `text` on a port as one chain of `pieces` buffers; returns the head.
  int transmit(std::uint32_t port, const std::string& text, std::size_t pieces = 1) {
    const auto q = vdevices::VirtioConsole::transmit_queue(port);
    std::vector<TestBuffer> chain;
    const std::size_t step = (text.size() + pieces - 1) / pieces;
    for (std::size_t at = 0; at < text.size(); at += step) {
      const std::string part = text.substr(at, step);
      chain.push_back({put(part), static_cast<std::uint32_t>(part.size()), false});
    }
    const int head = rings_[q].add(chain);
    driver_->notify(q);
    return head;
  }
  // Transmit chains the device has completed.
  std::size_t transmitted(std::uint32_t port) {
    return rings_[vdevices::VirtioConsole::transmit_queue(port)].take_used().size();
  }

  // A backend's wake-up as the VMM routes it.
  void wake(std::uint32_t port) { transport_->notify_queue(vdevices::VirtioConsole::receive_queue(port)); }

  [[nodiscard]] bool needs_reset() { return (driver_->status() & kNeedsReset) != 0; }
  [[nodiscard]] std::string error() const { return transport_->last_error(); }

  memory::GuestMemory& memory() { return *memory_; }
  vdevices::VirtioConsole& device() { return *device_; }
  vdevices::virtio::MmioTransport& transport() { return *transport_; }
  MmioDriver& driver() { return *driver_; }
  RecordingLine& line() { return line_; }
  vdevices::BufferBackend& backend(std::size_t port) { return *backends_.at(port); }
  TestRing& ring(std::uint16_t queue) { return rings_.at(queue); }

  // Replaces device and transport with ones restored from their saved states, keeping memory,
  // backends and rings: what a snapshot restore does.
  void save_and_restore() {
    const vdevices::DeviceState device_state = device_->save_state();
    const vdevices::DeviceState transport_state = transport_->save_state();
    std::vector<vdevices::ConsolePortConfig> config;
    for (std::size_t i = 0; i < backends_.size(); ++i) {
      config.push_back({names_.at(i), consoles_.at(i), backends_[i].get()});
    }
    auto device = vdevices::VirtioConsole::create(*memory_, std::move(config));
    ASSERT_TRUE(device) << device.error();
    driver_.reset();
    transport_.reset();
    device_ = std::move(*device);
    ASSERT_TRUE(device_->restore_state(device_state));
    transport_ = std::make_unique<vdevices::virtio::MmioTransport>(*device_, *memory_, line_);
    ASSERT_TRUE(transport_->restore_state(transport_state));
    driver_ = std::make_unique<MmioDriver>(*transport_);
  }

 private:
  void rebuild_rings() {
    rings_.clear();
    for (std::uint16_t q = 0; q < device_->queue_max_sizes().size(); ++q) {
      // Fresh rings start from zeroed memory, as a driver's newly allocated ones do.
      auto area = memory_->slice(kRingBase + 0x10000ULL * q, 0x10000);
      std::fill(area->begin(), area->end(), std::uint8_t{0});
      rings_.emplace_back(*memory_, kRingBase + 0x10000ULL * q, kRingSize);
    }
  }

  class Waker final : public vdevices::BackendWaker {
   public:
    Waker(ConsoleGuest& guest, std::uint32_t port) : guest_(guest), port_(port) {}
    void wake() noexcept override { guest_.wake(port_); }

   private:
    ConsoleGuest& guest_;
    std::uint32_t port_;
  };

  std::unique_ptr<memory::GuestMemory> memory_;
  std::vector<std::unique_ptr<Waker>> wakers_;
  std::vector<std::unique_ptr<vdevices::BufferBackend>> backends_;
  std::vector<std::string> names_;
  std::vector<bool> consoles_;
  std::unique_ptr<vdevices::VirtioConsole> device_;
  RecordingLine line_;
  std::unique_ptr<vdevices::virtio::MmioTransport> transport_;
  std::unique_ptr<MmioDriver> driver_;
  std::vector<TestRing> rings_;
  std::uint64_t next_buffer_ = kBufferBase;
};

}  // namespace tilehv::testing
