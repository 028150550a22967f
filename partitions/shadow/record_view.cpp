// RecordView: which bytes of an output record its comparison rule judges (see record_view.hpp).
#include "shadow/record_view.hpp"

#include <nlohmann/json.hpp>

namespace tilehv::shadow {
namespace {

constexpr std::size_t kEthernetHeader = 14;
constexpr std::size_t kUdpHeader = 8;
constexpr std::size_t kVsockHeader = 44;
constexpr std::size_t kMaxFields = 256;

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

RecordView udp_view(std::span<const std::uint8_t> frame) {
  RecordView whole{frame, frame, "frame"};
  if (frame.size() < kEthernetHeader + 20 || be16(frame.data() + 12) != 0x0800) return whole;
  const auto ip = frame.subspan(kEthernetHeader);
  const std::size_t header = (ip[0] & 0x0f) * 4U;
  const std::size_t total = be16(ip.data() + 2);
  if ((ip[0] >> 4) != 4 || header < 20 || total < header + kUdpHeader || total > ip.size() || ip[9] != 17) return whole;
  // A fragment carries part of a datagram: judged whole, like anything that is not one datagram.
  if ((be16(ip.data() + 6) & 0x3fff) != 0) return whole;
  const auto udp = ip.subspan(header, total - header);
  const std::size_t length = be16(udp.data() + 4);
  if (length < kUdpHeader || length > udp.size()) return whole;
  return RecordView{frame, udp.subspan(kUdpHeader, length - kUdpHeader), "udp:" + std::to_string(be16(udp.data() + 2))};
}

RecordView vsock_view(std::span<const std::uint8_t> packet) {
  if (packet.size() < kVsockHeader) return RecordView{packet, packet, "packet"};
  // dst_port (bytes 20..23, little-endian) names the conversation; op (bytes 30..31) its kind.
  std::uint32_t port = 0;
  for (int i = 3; i >= 0; --i) port = (port << 8) | packet[20 + static_cast<std::size_t>(i)];
  const std::uint16_t op = static_cast<std::uint16_t>(packet[30] | (packet[31] << 8));
  return RecordView{packet, packet.subspan(kVsockHeader), "vsock:" + std::to_string(port) + ":" + std::to_string(op)};
}

bool is_space(std::uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

RecordView view_record(policy::OutputStream stream, std::span<const std::uint8_t> record) {
  switch (stream) {
    case policy::OutputStream::kNetwork: return udp_view(record);
    case policy::OutputStream::kChannels: return vsock_view(record);
    case policy::OutputStream::kSensors: break;
  }
  return RecordView{record, record, "text"};
}

std::optional<RecordFields> parse_fields(std::span<const std::uint8_t> text) {
  std::size_t begin = 0;
  while (begin < text.size() && is_space(text[begin])) ++begin;
  const std::string_view body(reinterpret_cast<const char*>(text.data()) + begin, text.size() - begin);
  RecordFields fields;
  if (!body.empty() && body.front() == '{') {
    auto object = nlohmann::json::parse(body, nullptr, false);
    if (object.is_discarded() || !object.is_object() || object.size() > kMaxFields) return std::nullopt;
    for (const auto& [key, value] : object.items()) fields[key] = value.is_string() ? value.get<std::string>() : value.dump();
    return fields;
  }
  std::size_t position = 0;
  std::size_t i = 0;
  while (i < body.size()) {
    const auto c = static_cast<std::uint8_t>(body[i]);
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (c < 0x20 || c > 0x7e) return std::nullopt;  // not text
    std::size_t end = i;
    while (end < body.size() && !is_space(static_cast<std::uint8_t>(body[end]))) ++end;
    const std::string_view word = body.substr(i, end - i);
    const std::size_t eq = word.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      fields["#" + std::to_string(position++)] = std::string(word);
    } else if (!fields.emplace(std::string(word.substr(0, eq)), std::string(word.substr(eq + 1))).second) {
      return std::nullopt;  // a key twice: which one would count?
    }
    if (fields.size() > kMaxFields) return std::nullopt;
    i = end;
  }
  return fields;
}

}  // namespace tilehv::shadow
