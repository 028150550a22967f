// PortEndpoint: one side of an I/O-plane port: two MessageRings in a sealed memfd plus eventfds.
#include "port/port_endpoint.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "util/errno_text.hpp"

namespace tilehv::vdevices::port {
namespace {

constexpr std::uint64_t kHeaderOffset = 0;
constexpr std::uint64_t kControlOffset = 4096;
constexpr std::uint64_t kDataOffset = 8192;
constexpr unsigned kRequiredSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

std::uint64_t region_bytes(std::uint32_t ring_bytes) { return kDataOffset + 2 * std::uint64_t{ring_bytes}; }

tl::expected<void, std::string> check_geometry(std::uint32_t ring_bytes, std::uint32_t max_message) {
  if (!std::has_single_bit(ring_bytes) || ring_bytes < kMinRingBytes || ring_bytes > kMaxRingBytes) {
    return tl::unexpected(fmt::format("ring size {} is not a power of 2 between {} and {}", ring_bytes, kMinRingBytes,
                                      kMaxRingBytes));
  }
  // A message must fit in a quarter of the ring, so a wrap never leaves a ring unable to take one.
  if (max_message == 0 || record_bytes(max_message) > ring_bytes / 4) {
    return tl::unexpected(fmt::format("maximum message {} does not fit a quarter of a {}-byte ring", max_message, ring_bytes));
  }
  return {};
}

tl::expected<util::UniqueFd, std::string> make_eventfd() {
  util::UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd) return tl::unexpected("eventfd: " + util::errno_text(errno));
  return fd;
}

tl::expected<util::UniqueFd, std::string> dup_fd(const util::UniqueFd& fd) {
  util::UniqueFd copy(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 0));
  if (!copy) return tl::unexpected("dup: " + util::errno_text(errno));
  return copy;
}

// What the plane writes to and reads from without blocking: an eventfd opened non-blocking.
tl::expected<void, std::string> check_wake_fd(const util::UniqueFd& fd, std::string_view which) {
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0) return tl::unexpected(fmt::format("{} descriptor: {}", which, util::errno_text(errno)));
  char target[64] = {};
  const std::string link = fmt::format("/proc/self/fd/{}", fd.get());
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  if (n <= 0 || std::string_view(target, static_cast<std::size_t>(n)) != "anon_inode:[eventfd]") {
    return tl::unexpected(fmt::format("{} descriptor is not an eventfd", which));
  }
  if ((flags & O_NONBLOCK) == 0) return tl::unexpected(fmt::format("{} eventfd is not non-blocking", which));
  return {};
}

}  // namespace

PortEndpoint::PortEndpoint(util::Mapping mapping, PortFds fds, PortSide side, std::uint32_t ring_bytes,
                           std::uint32_t max_message)
    : mapping_(std::move(mapping)),
      fds_(std::move(fds)),
      outbound_(*reinterpret_cast<RingControl*>(mapping_.data() + kControlOffset +
                                                (side == PortSide::kDevice ? 0 : sizeof(RingControl))),
                mapping_.bytes().subspan(kDataOffset + (side == PortSide::kDevice ? 0 : ring_bytes), ring_bytes),
                max_message),
      inbound_(*reinterpret_cast<RingControl*>(mapping_.data() + kControlOffset +
                                               (side == PortSide::kDevice ? sizeof(RingControl) : 0)),
               mapping_.bytes().subspan(kDataOffset + (side == PortSide::kDevice ? ring_bytes : 0), ring_bytes),
               max_message) {}

tl::expected<PortEndpoint::Created, std::string> PortEndpoint::create(const PortConfig& config) {
  if (auto ok = check_geometry(config.ring_bytes, config.max_message); !ok) return tl::unexpected(ok.error());
  util::UniqueFd memory(::memfd_create("tilehv-port", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memory) return tl::unexpected("memfd_create: " + util::errno_text(errno));
  const std::uint64_t bytes = region_bytes(config.ring_bytes);
  if (::ftruncate(memory.get(), static_cast<off_t>(bytes)) != 0) return tl::unexpected("ftruncate: " + util::errno_text(errno));
  if (::fcntl(memory.get(), F_ADD_SEALS, kRequiredSeals) != 0) return tl::unexpected("F_ADD_SEALS: " + util::errno_text(errno));
  auto mapping = util::Mapping::map(bytes, PROT_READ | PROT_WRITE, MAP_SHARED, memory.get(), 0);
  if (!mapping) return tl::unexpected("mmap of the port: " + util::errno_text(mapping.error()));
  const PortHeader header{kPortMagic, kPortVersion, 0, config.ring_bytes, config.max_message};
  std::memcpy(mapping->data() + kHeaderOffset, &header, sizeof header);

  auto plane_wake = make_eventfd();
  if (!plane_wake) return tl::unexpected(plane_wake.error());
  auto device_wake = make_eventfd();
  if (!device_wake) return tl::unexpected(device_wake.error());
  PortFds device;
  auto memory_copy = dup_fd(memory);
  if (!memory_copy) return tl::unexpected(memory_copy.error());
  device.memory = std::move(*memory_copy);
  auto device_own = dup_fd(*device_wake);
  if (!device_own) return tl::unexpected(device_own.error());
  device.own_wake = std::move(*device_own);
  auto device_peer = dup_fd(*plane_wake);
  if (!device_peer) return tl::unexpected(device_peer.error());
  device.peer_wake = std::move(*device_peer);

  PortFds plane{std::move(memory), std::move(*plane_wake), std::move(*device_wake)};
  return Created{PortEndpoint(std::move(*mapping), std::move(plane), PortSide::kPlane, config.ring_bytes, config.max_message),
                 std::move(device)};
}

tl::expected<PortEndpoint, std::string> PortEndpoint::attach(PortFds fds, PortSide side) {
  if (!fds.memory || !fds.own_wake || !fds.peer_wake) return tl::unexpected(std::string("port descriptors missing"));
  const int seals = ::fcntl(fds.memory.get(), F_GET_SEALS);
  if (seals < 0) return tl::unexpected("port memory is not a sealable memfd: " + util::errno_text(errno));
  if ((static_cast<unsigned>(seals) & kRequiredSeals) != kRequiredSeals) {
    return tl::unexpected(std::string("port memory is not sealed against resizing"));
  }
  struct stat st {};
  if (::fstat(fds.memory.get(), &st) != 0) return tl::unexpected("fstat of the port: " + util::errno_text(errno));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < kDataOffset || size > region_bytes(kMaxRingBytes)) {
    return tl::unexpected(fmt::format("port memory of {} bytes has no room for its header", size));
  }
  auto mapping = util::Mapping::map(size, PROT_READ | PROT_WRITE, MAP_SHARED, fds.memory.get(), 0);
  if (!mapping) return tl::unexpected("mmap of the port: " + util::errno_text(mapping.error()));
  PortHeader header{};
  std::memcpy(&header, mapping->data() + kHeaderOffset, sizeof header);
  if (header.magic != kPortMagic) return tl::unexpected(fmt::format("port header magic {:#x} is not a tilehv port", header.magic));
  if (header.version != kPortVersion) {
    return tl::unexpected(fmt::format("port version {} is not supported ({})", header.version, kPortVersion));
  }
  if (auto ok = check_geometry(header.ring_bytes, header.max_message); !ok) return tl::unexpected(ok.error());
  if (size != region_bytes(header.ring_bytes)) {
    return tl::unexpected(fmt::format("port memory of {} bytes does not match its {}-byte rings", size, header.ring_bytes));
  }
  return PortEndpoint(std::move(*mapping), std::move(fds), side, header.ring_bytes, header.max_message);
}

tl::expected<PortEndpoint, std::string> PortEndpoint::reclaim(PortFds device_fds, const PortConfig& expected) {
  if (!device_fds.memory || !device_fds.own_wake || !device_fds.peer_wake) {
    return tl::unexpected(std::string("port descriptors missing"));
  }
  if (auto ok = check_wake_fd(device_fds.own_wake, "the device's wake"); !ok) return tl::unexpected(ok.error());
  if (auto ok = check_wake_fd(device_fds.peer_wake, "the plane's wake"); !ok) return tl::unexpected(ok.error());
  // The device side's own wake is the one the plane signals, and the other way round.
  PortFds plane{std::move(device_fds.memory), std::move(device_fds.peer_wake), std::move(device_fds.own_wake)};
  auto endpoint = attach(std::move(plane), PortSide::kPlane);
  if (!endpoint) return endpoint;
  if (endpoint->outbound_.capacity() != expected.ring_bytes || endpoint->max_message() != expected.max_message) {
    return tl::unexpected(fmt::format("port geometry ({}-byte rings, messages up to {}) is not the one granted ({}, {})",
                                      endpoint->outbound_.capacity(), endpoint->max_message(), expected.ring_bytes,
                                      expected.max_message));
  }
  return endpoint;
}

tl::expected<PushResult, RingError> PortEndpoint::send(std::span<const std::uint8_t> message) {
  auto pushed = outbound_.push(message);
  if (pushed && *pushed == PushResult::kPushed && outbound_.consumer_needs_wakeup()) wake_peer();
  return pushed;
}

tl::expected<std::optional<std::uint32_t>, RingError> PortEndpoint::receive(std::span<std::uint8_t> out) {
  auto got = inbound_.pop(out);
  if (got && got->has_value() && inbound_.producer_needs_wakeup()) wake_peer();
  return got;
}

tl::expected<std::optional<std::uint32_t>, RingError> PortEndpoint::peek_length() { return inbound_.peek_length(); }

void PortEndpoint::consume_wake() const noexcept {
  std::uint64_t value = 0;
  (void)!::read(fds_.own_wake.get(), &value, sizeof value);
}

void PortEndpoint::wake_self() const noexcept {
  const std::uint64_t one = 1;
  (void)!::write(fds_.own_wake.get(), &one, sizeof one);
}

void PortEndpoint::wake_peer() const noexcept {
  const std::uint64_t one = 1;
  (void)!::write(fds_.peer_wake.get(), &one, sizeof one);
}

}  // namespace tilehv::vdevices::port
