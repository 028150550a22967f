// MessageRing: one direction of an I/O-plane port: a single-producer single-consumer ring of
// variable-length messages in memory shared by two processes that do not trust each other.
#include "port/message_ring.hpp"

#include <cstring>

#include <fmt/format.h>

namespace tilehv::vdevices::port {
namespace {

std::uint64_t load_acquire(std::uint64_t& field) noexcept {
  return std::atomic_ref<std::uint64_t>(field).load(std::memory_order_acquire);
}
void store_release(std::uint64_t& field, std::uint64_t value) noexcept {
  std::atomic_ref<std::uint64_t>(field).store(value, std::memory_order_release);
}
// The waiting flags follow the Dekker pattern (store own flag or position, full fence, load the
// other's): with sequentially consistent accesses one of the two sides always sees the other, so a
// wakeup is never lost.
void store_flag(std::uint32_t& flag, std::uint32_t value) noexcept {
  std::atomic_ref<std::uint32_t>(flag).store(value, std::memory_order_seq_cst);
}
bool take_flag(std::uint32_t& flag) noexcept {
  std::atomic_ref<std::uint32_t> f(flag);
  if (f.load(std::memory_order_seq_cst) == 0) return false;
  return f.exchange(0, std::memory_order_seq_cst) != 0;
}

}  // namespace

MessageRing::MessageRing(RingControl& control, std::span<std::uint8_t> data, std::uint32_t max_message) noexcept
    : control_(&control), data_(data), max_message_(max_message) {
  tail_ = load_acquire(control.tail);
  seen_head_ = load_acquire(control.head);
  head_ = seen_head_;
}

std::uint64_t MessageRing::load_peer(std::uint64_t& field) const noexcept { return load_acquire(field); }

bool MessageRing::consumer_caught_up() const noexcept { return load_peer(control_->head) == tail_; }

std::uint64_t MessageRing::consumer_position() const noexcept { return load_peer(control_->head); }

tl::expected<PushResult, RingError> MessageRing::push(std::span<const std::uint8_t> message) {
  if (message.size() > max_message_) {
    return tl::unexpected(RingError{fmt::format("message of {} bytes exceeds the port's {} bytes", message.size(), max_message_)});
  }
  // Records are 8-byte aligned; a position that is not (taken over from a peer's memory) would put a
  // record header across the end of the ring.
  if ((tail_ & 7) != 0) return tl::unexpected(RingError{fmt::format("producer position {} is not 8-byte aligned", tail_)});
  const std::uint64_t capacity = data_.size();
  const std::uint64_t need = record_bytes(message.size());
  const std::uint64_t pos = tail_ & (capacity - 1);
  const std::uint64_t to_end = capacity - pos;
  const std::uint64_t total = need > to_end ? to_end + need : need;
  // Twice at most: once as things stand, once after announcing that the producer waits (space freed
  // in between would otherwise go unnoticed until the next message).
  for (int attempt = 0;; ++attempt) {
    const std::uint64_t head = load_peer(control_->head);
    // The consumer can only move forward, and never past what was published.
    if (head - seen_head_ > tail_ - seen_head_) {
      return tl::unexpected(RingError{fmt::format("consumer position {} is outside [{}, {}]", head, seen_head_, tail_)});
    }
    seen_head_ = head;
    if ((tail_ - head) + total <= capacity) {
      if (attempt != 0) store_flag(control_->producer_waiting, 0);
      break;
    }
    if (attempt != 0) return PushResult::kFull;
    store_flag(control_->producer_waiting, 1);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  std::uint64_t at = pos;
  if (need > to_end) {
    const std::uint32_t marker[2] = {kWrapMarker, 0};
    std::memcpy(data_.data() + at, marker, sizeof marker);
    at = 0;
  }
  const std::uint32_t header[2] = {static_cast<std::uint32_t>(message.size()), 0};
  std::memcpy(data_.data() + at, header, sizeof header);
  if (!message.empty()) std::memcpy(data_.data() + at + kRecordHeaderBytes, message.data(), message.size());
  tail_ += total;
  store_release(control_->tail, tail_);
  return PushResult::kPushed;
}

bool MessageRing::consumer_needs_wakeup() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return take_flag(control_->consumer_waiting);
}

tl::expected<std::uint64_t, RingError> MessageRing::available() const {
  const std::uint64_t tail = load_peer(control_->tail);
  if (tail - head_ > data_.size()) {
    return tl::unexpected(RingError{fmt::format("producer position {} is more than the ring's {} bytes ahead of {}", tail,
                                                data_.size(), head_)});
  }
  return tail - head_;
}

tl::expected<std::optional<std::uint32_t>, RingError> MessageRing::next_record(bool consume, std::span<std::uint8_t> out) {
  for (;;) {
    auto avail = available();
    if (!avail) return tl::unexpected(avail.error());
    if (*avail == 0) return std::nullopt;
    const std::uint64_t capacity = data_.size();
    if ((head_ & 7) != 0) return tl::unexpected(RingError{fmt::format("consumer position {} is not 8-byte aligned", head_)});
    const std::uint64_t pos = head_ & (capacity - 1);
    if (*avail < kRecordHeaderBytes) {
      return tl::unexpected(RingError{fmt::format("{} bytes published at {}: less than a record header", *avail, head_)});
    }
    // One copy of the header: the producer may rewrite shared memory at any time.
    std::uint32_t header[2];
    std::memcpy(header, data_.data() + pos, sizeof header);
    if (header[0] == kWrapMarker) {
      const std::uint64_t skip = capacity - pos;
      if (skip > *avail) return tl::unexpected(RingError{fmt::format("wrap marker at {} skips past the published data", head_)});
      head_ += skip;
      store_release(control_->head, head_);
      continue;
    }
    const std::uint32_t length = header[0];
    const std::uint64_t need = record_bytes(length);
    if (length > max_message_ || need > *avail || need > capacity - pos) {
      return tl::unexpected(RingError{fmt::format("record at {} claims {} bytes ({} published, {} allowed)", head_, length,
                                                  *avail, max_message_)});
    }
    if (!consume) return length;
    if (length > out.size()) {
      return tl::unexpected(RingError{fmt::format("a {}-byte message does not fit the {}-byte buffer", length, out.size())});
    }
    if (length != 0) std::memcpy(out.data(), data_.data() + pos + kRecordHeaderBytes, length);
    head_ += need;
    store_release(control_->head, head_);
    return length;
  }
}

tl::expected<std::optional<std::uint32_t>, RingError> MessageRing::pop(std::span<std::uint8_t> out) {
  return next_record(true, out);
}

tl::expected<std::optional<std::uint32_t>, RingError> MessageRing::peek_length() { return next_record(false, {}); }

bool MessageRing::prepare_to_sleep() noexcept {
  store_flag(control_->consumer_waiting, 1);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (load_peer(control_->tail) != head_) {
    store_flag(control_->consumer_waiting, 0);
    return false;
  }
  return true;
}

bool MessageRing::producer_needs_wakeup() noexcept {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  return take_flag(control_->producer_waiting);
}

}  // namespace tilehv::vdevices::port
