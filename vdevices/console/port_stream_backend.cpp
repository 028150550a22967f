// PortStreamBackend: a console port's byte streams through an I/O-plane port.
#include "console/port_stream_backend.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace tilehv::vdevices {

PortStreamBackend::PortStreamBackend(port::PortEndpoint endpoint, std::string name)
    : endpoint_(std::move(endpoint)), name_(std::move(name)), pending_(endpoint_.max_message()) {}

void PortStreamBackend::fail(const std::string& what) noexcept {
  if (broken_) return;
  broken_ = true;
  try {
    fmt::print(stderr, "tilehv: console port {} failed, its streams stop: {}\n", name_, what);
  } catch (...) {
  }
}

std::size_t PortStreamBackend::read(std::span<std::uint8_t> out) noexcept {
  std::size_t copied = 0;
  while (copied < out.size() && !broken_) {
    if (pending_offset_ == pending_size_) {
      auto got = endpoint_.receive(pending_);
      if (!got) {
        fail(got.error().message);
        break;
      }
      if (!got->has_value()) {
        // Empty: ask the plane to wake this side for the next chunk, unless one just arrived.
        if (endpoint_.prepare_to_sleep()) break;
        continue;
      }
      pending_offset_ = 0;
      pending_size_ = **got;
      continue;
    }
    const std::size_t take = std::min(out.size() - copied, pending_size_ - pending_offset_);
    std::memcpy(out.data() + copied, pending_.data() + pending_offset_, take);
    pending_offset_ += take;
    copied += take;
  }
  return copied;
}

std::size_t PortStreamBackend::write(std::span<const std::uint8_t> bytes) noexcept {
  // A broken port is a cable nobody listens to: the guest's bytes are taken and dropped.
  if (broken_) return bytes.size();
  const std::size_t chunk = std::min<std::size_t>(bytes.size(), endpoint_.max_message());
  auto sent = endpoint_.send(bytes.first(chunk));
  if (!sent) {
    fail(sent.error().message);
    return bytes.size();
  }
  // Full: the plane wakes this side once it made room, and the device offers the rest again.
  return *sent == port::PushResult::kPushed ? chunk : 0;
}

}  // namespace tilehv::vdevices
