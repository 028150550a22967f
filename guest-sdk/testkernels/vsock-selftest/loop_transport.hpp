// Loop transport: two vsock transports wired back to back in memory, standing in for a
// virtio-vsock device, so two socket tables on one CPU can talk to each other.
//
// Everything is single-threaded, so a blocking call on one side would wait forever for a peer that
// never runs. wait() therefore runs a pump (set by the test: usually the peer's poll(), sometimes a
// reader that drains it) until something arrives or the deadline passes.
#pragma once

#include <cstddef>
#include <cstdint>

#include <guest/vsock/transport.hpp>

class LoopTransport final : public guest::vsock::Transport {
 public:
  static constexpr size_t kDepth = 32;
  using Pump = void (*)();

  explicit LoopTransport(uint64_t cid) : cid_(cid) {}
  void connect(LoopTransport& peer) { peer_ = &peer; }
  void set_pump(Pump pump) { pump_ = pump; }
  void raise_reset() { reset_ = true; }
  void clear() { head_ = count_ = 0; }
  [[nodiscard]] size_t queued() const { return count_; }
  // Packets of each op this side sent (ops 0..7).
  [[nodiscard]] uint64_t sent(guest::vsock::Op op) const { return sent_[static_cast<uint16_t>(op) & 7]; }

  [[nodiscard]] uint64_t local_cid() const override { return cid_; }
  [[nodiscard]] size_t max_payload() const override { return guest::vsock::kMaxPayload; }

  guest::vsock::SendResult send(const guest::vsock::Header& header, const void* payload) override {
    if (header.len > guest::vsock::kMaxPayload) return guest::vsock::SendResult::too_long;
    if (peer_ == nullptr || !peer_->push(header, payload)) return guest::vsock::SendResult::busy;
    ++sent_[static_cast<uint16_t>(header.op) & 7];
    return guest::vsock::SendResult::sent;
  }

  bool receive(guest::vsock::Header& header, uint8_t* payload, size_t capacity) override {
    while (count_ != 0) {
      const Slot& slot = slots_[head_];
      head_ = (head_ + 1) % kDepth;
      --count_;
      if (slot.header.len > capacity) continue;
      header = slot.header;
      __builtin_memcpy(payload, slot.payload, slot.header.len);
      return true;
    }
    return false;
  }

  bool take_reset() override {
    const bool reset = reset_;
    reset_ = false;
    return reset;
  }

  bool wait(const guest::time::Deadline& deadline, bool for_send) override {
    for (;;) {
      if (count_ != 0 || reset_ || (for_send && peer_ != nullptr && peer_->count_ < kDepth)) return true;
      if (deadline.expired()) return false;
      if (pump_ != nullptr) pump_();
    }
  }

  bool wait_sent(const guest::time::Deadline&) override { return true; }

 private:
  struct Slot {
    guest::vsock::Header header;
    uint8_t payload[guest::vsock::kMaxPayload];
  };

  bool push(const guest::vsock::Header& header, const void* payload) {
    if (count_ == kDepth) return false;
    Slot& slot = slots_[(head_ + count_) % kDepth];
    slot.header = header;
    if (header.len != 0) __builtin_memcpy(slot.payload, payload, header.len);
    ++count_;
    return true;
  }

  uint64_t cid_;
  LoopTransport* peer_ = nullptr;
  Pump pump_ = nullptr;
  bool reset_ = false;
  size_t head_ = 0;
  size_t count_ = 0;
  uint64_t sent_[8] = {};
  Slot slots_[kDepth];
};
