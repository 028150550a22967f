// UplinkTap: the switch's uplink on a host TAP device, with the size checks of its frames.
#include "ioplane/uplink_tap.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace tilehv::ioplane {
namespace {

constexpr std::size_t kEthernetHeader = 14;

}  // namespace

UplinkTap::UplinkTap(vdevices::TapBackend backend, const PlaneUplink& config)
    : backend_(std::move(backend)), tap_(config.tap) {
  set_mtu(config.mtu);
  buffer_.resize(vdevices::TapBackend::kMaxFrame);
}

void UplinkTap::set_mtu(std::uint16_t mtu) noexcept {
  // A TAP read returns at most kMaxFrame bytes and cuts a longer frame short; keeping the limit
  // below that makes a cut frame oversized, never a frame passed on truncated.
  max_frame_ = std::min<std::uint32_t>(std::uint32_t{mtu} + kFrameOverhead, vdevices::TapBackend::kMaxFrame - 1);
}

tl::expected<UplinkTap, std::string> UplinkTap::open(const PlaneUplink& config) {
  auto backend = vdevices::TapBackend::open(config.tap);
  if (!backend) return tl::unexpected(fmt::format("cannot open the uplink TAP {}: {}", config.tap, backend.error()));
  return UplinkTap(std::move(*backend), config);
}

tl::expected<UplinkTap::Received, std::string> UplinkTap::receive() {
  auto got = backend_.receive(buffer_);
  if (!got) return tl::unexpected(got.error());
  if (!got->has_value()) return Received{};
  const std::uint32_t length = **got;
  if (length < kEthernetHeader) {
    ++counters_.runts_in;
    return Received{Received::Kind::kDropped, {}};
  }
  if (length > max_frame_) {
    ++counters_.oversized_in;
    return Received{Received::Kind::kDropped, {}};
  }
  return Received{Received::Kind::kFrame, std::span<const std::uint8_t>(buffer_.data(), length)};
}

tl::expected<UplinkTap::Sent, std::string> UplinkTap::send(std::span<const std::uint8_t> frame) {
  // The partitions' devices keep to their own MTUs; a frame beyond the uplink's is refused here
  // rather than left to the host's stack.
  if (frame.size() > max_frame_) {
    ++counters_.oversized_out;
    return Sent::kOversized;
  }
  auto sent = backend_.send(frame);
  if (!sent) return tl::unexpected(sent.error());
  return *sent == vdevices::FrameSendStatus::kSent ? Sent::kSent : Sent::kFull;
}

}  // namespace tilehv::ioplane
