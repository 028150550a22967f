// MessageRing: one direction of an I/O-plane port: a single-producer single-consumer ring of
// variable-length messages in memory shared by two processes that do not trust each other.
//
// Each side keeps its own position privately and only reads the other side's published position,
// checking it before use: a peer that scribbles over the shared memory can break the ring (the honest
// side then reports it and stops using the port) but can never make the honest side read or write
// outside the ring.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include <tl/expected.hpp>

namespace tilehv::vdevices::port {

// The shared control block of one ring. Producer and consumer fields sit on separate cache lines so
// the two sides do not contend for one line on every message.
struct RingControl {
  alignas(64) std::uint64_t tail;            // bytes ever published by the producer
  std::uint32_t producer_waiting;            // set by a producer that found the ring full
  alignas(64) std::uint64_t head;            // bytes ever consumed by the consumer
  std::uint32_t consumer_waiting;            // set by a consumer about to sleep
  alignas(64) std::uint8_t reserved[128];  // room for later fields, zero
};
static_assert(sizeof(RingControl) == 256);

// Each message is an 8-byte record header (length, then 4 reserved bytes) and the payload padded to
// 8 bytes; a record never wraps. A header with kWrapMarker tells the consumer to continue at offset 0.
inline constexpr std::uint32_t kRecordHeaderBytes = 8;
inline constexpr std::uint32_t kWrapMarker = 0xffff'ffffU;

[[nodiscard]] constexpr std::uint64_t record_bytes(std::uint64_t payload) {
  return kRecordHeaderBytes + ((payload + 7) & ~std::uint64_t{7});
}

struct RingError {
  std::string message;  // what the peer did to the shared ring
};

enum class PushResult { kPushed, kFull };

class MessageRing {
 public:
  // `control` and `data` lie in the shared mapping; `data.size()` is a power of 2 and a multiple of 8.
  // `max_message` bounds a payload; it must leave room for a record in half the ring.
  // Both sides start from the positions published in `control`, so an endpoint that attaches again
  // (a restarted process) continues where the ring stands; the first operation checks them.
  MessageRing(RingControl& control, std::span<std::uint8_t> data, std::uint32_t max_message) noexcept;

  // --- producer side ---
  // Appends one message; kFull if the consumer has not made room yet (the ring is then marked so
  // that the consumer wakes the producer once it frees space). An error means the consumer's
  // published position is impossible.
  [[nodiscard]] tl::expected<PushResult, RingError> push(std::span<const std::uint8_t> message);
  // After a push: true if the consumer sleeps and must be woken.
  [[nodiscard]] bool consumer_needs_wakeup() noexcept;
  // True if the consumer has taken every message published (as it says: a hint, never trusted for
  // memory safety).
  [[nodiscard]] bool consumer_caught_up() const noexcept;
  // Where the consumer says it stands (bytes ever consumed), comparable with produced(): a hint.
  [[nodiscard]] std::uint64_t consumer_position() const noexcept;

  // --- consumer side ---
  // Copies the next message into `out` (at least max_message() bytes) and returns its length;
  // nullopt when the ring is empty.
  [[nodiscard]] tl::expected<std::optional<std::uint32_t>, RingError> pop(std::span<std::uint8_t> out);
  // The length of the next message without consuming it; nullopt when empty.
  [[nodiscard]] tl::expected<std::optional<std::uint32_t>, RingError> peek_length();
  // Before sleeping: announces it and returns false if a message arrived meanwhile (do not sleep).
  [[nodiscard]] bool prepare_to_sleep() noexcept;
  // After a pop: true if the producer waits for space and must be woken.
  [[nodiscard]] bool producer_needs_wakeup() noexcept;

  [[nodiscard]] std::uint32_t max_message() const noexcept { return max_message_; }
  [[nodiscard]] std::uint64_t capacity() const noexcept { return data_.size(); }
  // This side's private positions (saved with a device, compared in tests).
  [[nodiscard]] std::uint64_t produced() const noexcept { return tail_; }
  [[nodiscard]] std::uint64_t consumed() const noexcept { return head_; }

 private:
  [[nodiscard]] std::uint64_t load_peer(std::uint64_t& field) const noexcept;
  [[nodiscard]] tl::expected<std::uint64_t, RingError> available() const;
  [[nodiscard]] tl::expected<std::optional<std::uint32_t>, RingError> next_record(bool consume,
                                                                                  std::span<std::uint8_t> out);

  RingControl* control_;
  std::span<std::uint8_t> data_;
  std::uint32_t max_message_;
  std::uint64_t tail_ = 0;       // producer: what it has published
  std::uint64_t seen_head_ = 0;  // producer: the consumer's last valid position
  std::uint64_t head_ = 0;       // consumer: what it has consumed
};

}  // namespace tilehv::vdevices::port
