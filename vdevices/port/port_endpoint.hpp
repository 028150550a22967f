// PortEndpoint: one side of an I/O-plane port (ARCHITECTURE.md): two MessageRings in a sealed memfd
// shared by a VMM (the device side) and the tile's I/O plane, each side with an eventfd the other
// signals when it has published messages or freed space.
//
// The plane creates the memory and seals it (no shrinking, no growing) before handing it over, so a
// hostile VMM cannot truncate the mapping under the plane; each side checks the other's ring
// positions before using them (MessageRing).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include <tl/expected.hpp>

#include "port/message_ring.hpp"
#include "util/mapping.hpp"
#include "util/unique_fd.hpp"

namespace tilehv::vdevices::port {

// The shared region: a header page, a page of ring control blocks, then the two rings' data.
struct PortHeader {
  std::uint32_t magic;       // kPortMagic
  std::uint16_t version;     // kPortVersion
  std::uint16_t reserved;
  std::uint32_t ring_bytes;  // data bytes of each ring, a power of 2
  std::uint32_t max_message;
};
inline constexpr std::uint32_t kPortMagic = 0x54504c54;  // "TLPT"
inline constexpr std::uint16_t kPortVersion = 1;
inline constexpr std::uint32_t kMinRingBytes = 4096;
inline constexpr std::uint32_t kMaxRingBytes = 16U << 20;

struct PortConfig {
  std::uint32_t ring_bytes = 256 * 1024;
  std::uint32_t max_message = 16384;  // a jumbo frame (MTU 9000) with room to spare
};

// The descriptors that make one side of a port, as passed between processes.
struct PortFds {
  util::UniqueFd memory;     // the sealed memfd
  util::UniqueFd own_wake;   // signalled by the peer; this side sleeps on it
  util::UniqueFd peer_wake;  // this side signals it
};

enum class PortSide : std::uint8_t {
  kDevice,  // sends on ring 0 (out of the partition), receives on ring 1
  kPlane,   // the reverse
};

class PortEndpoint {
 public:
  // Creates a port; returns the plane's endpoint and the device side's descriptors.
  struct Created;
  [[nodiscard]] static tl::expected<Created, std::string> create(const PortConfig& config);
  // Maps a port received from the peer after checking its size, seals and header.
  [[nodiscard]] static tl::expected<PortEndpoint, std::string> attach(PortFds fds, PortSide side);
  // The plane takes a port back from the descriptors its device side holds (a restarted plane
  // re-attaching a running VMM): the rings continue where they stand. The device side is not trusted:
  // its wake descriptors must be non-blocking eventfds (the plane never blocks on them) and the
  // geometry must be the one the plane grants for this kind of port, `expected`.
  [[nodiscard]] static tl::expected<PortEndpoint, std::string> reclaim(PortFds device_fds, const PortConfig& expected);

  PortEndpoint(PortEndpoint&&) noexcept = default;
  PortEndpoint& operator=(PortEndpoint&&) noexcept = default;

  // Sends one message and wakes the peer if it sleeps. kFull: wait for this side's wake fd.
  [[nodiscard]] tl::expected<PushResult, RingError> send(std::span<const std::uint8_t> message);
  // Receives one message into `out` (at least max_message() bytes); nullopt when none is waiting.
  [[nodiscard]] tl::expected<std::optional<std::uint32_t>, RingError> receive(std::span<std::uint8_t> out);
  [[nodiscard]] tl::expected<std::optional<std::uint32_t>, RingError> peek_length();
  // Before waiting on wake_fd(): false if a message is already there.
  [[nodiscard]] bool prepare_to_sleep() noexcept { return inbound_.prepare_to_sleep(); }
  // Clears this side's wake counter (after a wakeup, before looking at the rings again).
  void consume_wake() const noexcept;
  // Wakes the peer unconditionally (after a restore, or to make it look at the rings again).
  void wake_peer() const noexcept;
  // Makes this side's own wake fd readable, so that its owner looks at the rings on its next turn.
  void wake_self() const noexcept;
  // Asks the peer to wake this side for its next message; if one is already waiting, wakes this side
  // now. For an owner that starts listening (a device being activated).
  void arm() noexcept {
    if (!prepare_to_sleep()) wake_self();
  }

  [[nodiscard]] int wake_fd() const noexcept { return fds_.own_wake.get(); }
  [[nodiscard]] std::uint32_t max_message() const noexcept { return outbound_.max_message(); }
  [[nodiscard]] const MessageRing& outbound() const noexcept { return outbound_; }
  [[nodiscard]] const MessageRing& inbound() const noexcept { return inbound_; }

 private:
  PortEndpoint(util::Mapping mapping, PortFds fds, PortSide side, std::uint32_t ring_bytes, std::uint32_t max_message);

  util::Mapping mapping_;
  PortFds fds_;
  MessageRing outbound_;
  MessageRing inbound_;
};

struct PortEndpoint::Created {
  PortEndpoint plane;
  PortFds device;
};

}  // namespace tilehv::vdevices::port
