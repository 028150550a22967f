// Quote: shows an untrusted token inside a message, quoted, shortened and escaped.
#include "sensors/quote.hpp"

#include <fmt/format.h>

namespace tilehv::vdevices::sensors {
namespace {

constexpr std::size_t kMaxQuoted = 40;

}  // namespace

std::string quote(std::string_view token) {
  std::string out = "\"";
  for (std::size_t i = 0; i < token.size() && i < kMaxQuoted; ++i) {
    const auto c = static_cast<unsigned char>(token[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (token.size() > kMaxQuoted) out += "...";
  out += '"';
  return out;
}

}  // namespace tilehv::vdevices::sensors
