// UDP examples' common part: the command line they share and bringing up the virtio-net device.
#include "udp_common.hpp"

#include <guest/cmdline.hpp>
#include <guest/console.hpp>
#include <guest/net/udp_socket.hpp>

using namespace guest;

namespace udp_example {
namespace {

bool address(const char* name, StrView key, const char* fallback, net::Ipv4Address& out) {
  const cmdline::Lookup found = cmdline::find(key);
  const StrView text = found.found ? found.value : StrView(fallback);
  if (net::parse_ipv4_address(text, out) && out.is_unicast()) return true;
  print("{}: bad {} \"{}\"\n", name, key, text);
  return false;
}

bool number(const char* name, StrView key, uint64_t fallback, uint64_t low, uint64_t high, uint64_t& out) {
  const cmdline::Lookup found = cmdline::find(key);
  out = fallback;
  if (!found.found) return true;
  const cmdline::ParsedInteger parsed = cmdline::parse_u64(found.value);
  if (parsed.ok && parsed.value >= low && parsed.value <= high) {
    out = parsed.value;
    return true;
  }
  print("{}: bad {} \"{}\" (want {}..{})\n", name, key, found.value, low, high);
  return false;
}

}  // namespace

bool parse_config(const char* name, const Defaults& defaults, Config& out) {
  out.role = cmdline::find("role").value;
  uint64_t port = 0;
  if (!address(name, "ip", defaults.ip, out.ip) || !address(name, "peer", defaults.peer, out.peer) ||
      !number(name, "count", defaults.count, 1, defaults.max_count, out.count) ||
      !number(name, "size", defaults.size, defaults.min_size, net::UdpSocket::kMaxPayload, out.size) ||
      !number(name, "port", 7777, 1, 65535, port) || !number(name, "wait_ms", 30000, 1, 3'600'000, out.wait_ms)) {
    return false;
  }
  out.port = static_cast<uint16_t>(port);
  return true;
}

void fill_pattern(uint8_t* body, size_t size) {
  for (size_t i = 0; i < size; ++i) body[i] = static_cast<uint8_t>(i * 7 + (i >> 8) + 1);
}

bool bring_up(const char* name, virtio::NetDevice& device) {
  uint64_t queue = 0;
  if (!number(name, "queue", virtio::NetDevice::kQueueSize, 2, virtio::NetDevice::kQueueSize, queue)) return false;
  if ((queue & (queue - 1)) != 0) {
    print("{}: queue={} is not a power of two\n", name, queue);
    return false;
  }
  const virtio::NetDevice::InitError error = device.init(static_cast<uint16_t>(queue));
  if (error == virtio::NetDevice::InitError::none) return true;
  if (error == virtio::NetDevice::InitError::no_device) {
    print("{}: no virtio network device announced\n", name);
  } else {
    print("{}: network device at {:#x} refused initialization (error {})\n", name, device.info().base,
          static_cast<unsigned>(error));
  }
  return false;
}

}  // namespace udp_example
