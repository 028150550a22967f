// UplinkTap: the L2 switch's uplink on a host TAP device. Frames the host's network stack sends on
// the TAP enter the switch at its port "uplink"; frames the switch sends there go out through it.
//
// The host is trusted more than a partition but its frames are still checked: a runt or a frame
// longer than the uplink's MTU allows never reaches the switch. Writes never block the plane: a TAP
// whose queue is full drops the frame.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "net/tap_backend.hpp"

namespace tilehv::ioplane {

// The uplink a plane is configured with.
struct PlaneUplink {
  std::string tap;           // the host's TAP device (created if absent, which needs CAP_NET_ADMIN)
  std::uint16_t mtu = 1500;  // frames may carry this much after an Ethernet header and a VLAN tag
  bool operator==(const PlaneUplink&) const = default;
};

// Frames the uplink dropped itself, before the switch saw them or after it let them go; the switch
// counts its own decisions (and a full TAP, as no_room) at its port "uplink".
struct UplinkCounters {
  std::uint64_t runts_in = 0;       // from the host, shorter than an Ethernet header
  std::uint64_t oversized_in = 0;   // from the host, longer than the MTU allows
  std::uint64_t oversized_out = 0;  // for the host, longer than the MTU allows
};

class UplinkTap {
 public:
  // The switch port's name: what a partition's allow-list names to reach the host's network.
  static constexpr const char* kPortName = "uplink";
  // An Ethernet header and one VLAN tag (802.1Q), beyond the MTU.
  static constexpr std::uint32_t kFrameOverhead = 18;

  [[nodiscard]] static tl::expected<UplinkTap, std::string> open(const PlaneUplink& config);

  struct Received {
    enum class Kind { kFrame, kDropped, kNone };
    Kind kind = Kind::kNone;
    std::span<const std::uint8_t> frame;  // kFrame: valid until the next receive()
  };
  // Takes one frame from the TAP: kFrame for the switch, kDropped (counted), or kNone waiting.
  [[nodiscard]] tl::expected<Received, std::string> receive();

  enum class Sent { kSent, kFull, kOversized };
  // Hands a frame to the host without blocking; kFull and kOversized frames are dropped.
  [[nodiscard]] tl::expected<Sent, std::string> send(std::span<const std::uint8_t> frame);

  void set_mtu(std::uint16_t mtu) noexcept;
  [[nodiscard]] int fd() const noexcept { return backend_.wake_fd(); }
  [[nodiscard]] const std::string& tap() const noexcept { return tap_; }
  [[nodiscard]] const UplinkCounters& counters() const noexcept { return counters_; }

 private:
  UplinkTap(vdevices::TapBackend backend, const PlaneUplink& config);

  vdevices::TapBackend backend_;
  std::string tap_;
  std::uint32_t max_frame_ = 0;
  std::vector<std::uint8_t> buffer_;  // the frame last read, as large as a TAP read can be
  UplinkCounters counters_;
};

}  // namespace tilehv::ioplane
