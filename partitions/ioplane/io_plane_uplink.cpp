// IoPlane: the switch's uplink on a host TAP device (see uplink_tap.hpp): opened, replaced and
// removed as the tile's policy says, served on the plane's thread like a port.
#include <sys/epoll.h>

#include <cerrno>

#include <fmt/format.h>

#include "ioplane/io_plane.hpp"
#include "util/errno_text.hpp"

namespace tilehv::ioplane {
namespace {

void log_uplink(const std::string& line) {
  try {
    fmt::print(stderr, "tilehv-plane: {}\n", line);
  } catch (...) {
  }
}

}  // namespace

tl::expected<void, std::string> IoPlane::configure_uplink(const std::optional<PlaneUplink>& wanted,
                                                          const std::vector<PlaneNetPort>& net_ports) {
  if (!wanted) {
    remove_uplink();
    return {};
  }
  // Allow-lists name the uplink by its port's name, so no partition's port may carry it.
  for (const PlaneNetPort& p : net_ports) {
    if (p.name == UplinkTap::kPortName) {
      return tl::unexpected(fmt::format("a network port may not be named \"{}\": the tile's uplink has that name", p.name));
    }
  }
  if (auto held = switch_.find(UplinkTap::kPortName); held && !(uplink_ && *held == uplink_->port)) {
    return tl::unexpected(fmt::format("a partition holds the switch port \"{}\" that the tile's uplink needs",
                                      UplinkTap::kPortName));
  }
  if (uplink_ && uplink_->tap.tap() == wanted->tap) {
    uplink_->tap.set_mtu(wanted->mtu);
    return {};
  }
  // The new TAP is opened before the old one is let go: if it cannot be, the old uplink serves on.
  auto opened = UplinkTap::open(*wanted);
  if (!opened) return tl::unexpected(opened.error());
  install_uplink(std::move(*opened));
  return {};
}

void IoPlane::install_uplink(UplinkTap tap) {
  // Another TAP is another port: the addresses learned behind the old one are forgotten with it.
  remove_uplink();
  auto port = switch_.add_port(SwitchPortConfig{UplinkTap::kPortName, {}, true, {}});
  if (!port) {
    // configure_uplink checked that the name is free, and an uplink claims no address.
    log_uplink(fmt::format("the switch refused the uplink port for TAP {}", tap.tap()));
    return;
  }
  uplink_.emplace(Uplink{std::move(tap), *port, false});
  watch_uplink(true);
}

void IoPlane::remove_uplink() {
  if (!uplink_) return;
  watch_uplink(false);
  if (const SwitchPortCounters* last = switch_.counters(uplink_->port)) retired_[UplinkTap::kPortName] = *last;
  retired_uplink_ = uplink_->tap.counters();
  switch_.remove_port(uplink_->port);
  uplink_.reset();  // closes the TAP
}

void IoPlane::cut_off_uplink(const std::string& why) {
  if (!uplink_) return;
  log_uplink(fmt::format("uplink TAP {} cut off: {}; the tile has no uplink until a policy names one again",
                         uplink_->tap.tap(), why));
  metrics_.ports_cut_off.fetch_add(1, std::memory_order_relaxed);
  remove_uplink();
}

void IoPlane::watch_uplink(bool on) {
  // Traffic held: the host's frames wait in the TAP's queue until release_traffic().
  if (!uplink_ || uplink_->watched == on || (on && traffic_held_)) return;
  if (!on) {
    (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, uplink_->tap.fd(), nullptr);
    uplink_->watched = false;
    return;
  }
  if (!watch(uplink_->tap.fd(), kUplinkToken)) return cut_off_uplink("cannot watch the TAP: " + util::errno_text(errno));
  uplink_->watched = true;
}

void IoPlane::serve_uplink() {
  if (!uplink_ || traffic_held_) return;
  for (int turn = 0; turn < kFramesPerTurn; ++turn) {
    auto got = uplink_->tap.receive();
    if (!got) return cut_off_uplink(got.error());
    if (got->kind == UplinkTap::Received::Kind::kNone) return;
    if (got->kind == UplinkTap::Received::Kind::kDropped) continue;
    (void)forward_frame(uplink_->port, got->frame);
    if (!uplink_) return;
  }
  // A busy host yields to the partitions: the TAP is watched level-triggered, so the frames still
  // waiting bring it back after the other ports have had their turn.
}

void IoPlane::send_to_uplink(std::span<const std::uint8_t> frame) {
  const SwitchPortId port = uplink_->port;
  auto sent = uplink_->tap.send(frame);
  if (!sent) return cut_off_uplink(sent.error());
  if (*sent == UplinkTap::Sent::kSent) {
    switch_.delivered(port, frame.size());
  } else if (*sent == UplinkTap::Sent::kFull) {
    // Switches drop, they do not stall a sender for a slow receiver; the host is one.
    switch_.no_room(port);
  }
}

std::optional<UplinkCounters> IoPlane::uplink_counters() const {
  std::lock_guard lock(mutex_);
  if (uplink_) return uplink_->tap.counters();
  return retired_uplink_;
}

}  // namespace tilehv::ioplane
