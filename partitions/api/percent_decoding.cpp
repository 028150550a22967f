// Percent decoding of request targets.
#include "api/percent_decoding.hpp"

#include <fmt/format.h>

namespace tilehv::api {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

tl::expected<std::string, std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());  // decoding never grows the text: the output is bounded by the input
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
      continue;
    }
    if (c != '%') {
      out += c;
      continue;
    }
    if (text.size() - i < 3) {
      return tl::unexpected(fmt::format("truncated percent escape at offset {} of '{}'", i, text));
    }
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) {
      return tl::unexpected(fmt::format("invalid percent escape '{}' at offset {}", text.substr(i, 3), i));
    }
    const int byte = high * 16 + low;
    if (byte == 0) return tl::unexpected(fmt::format("escaped NUL byte at offset {}", i));
    out += static_cast<char>(byte);
    i += 2;
  }
  return out;
}

tl::expected<std::map<std::string, std::string>, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> params;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view piece = query.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) continue;
    if (params.size() == kMaxQueryParameters) {
      return tl::unexpected(fmt::format("more than {} query parameters", kMaxQueryParameters));
    }
    const std::size_t equals = piece.find('=');
    auto name = percent_decode(piece.substr(0, equals), true);
    if (!name) return tl::unexpected(fmt::format("query parameter name: {}", name.error()));
    if (name->empty()) return tl::unexpected(fmt::format("query parameter without a name: '{}'", piece));
    auto value = equals == std::string_view::npos ? tl::expected<std::string, std::string>(std::string())
                                                  : percent_decode(piece.substr(equals + 1), true);
    if (!value) return tl::unexpected(fmt::format("query parameter '{}': {}", *name, value.error()));
    if (!params.emplace(*name, std::move(*value)).second) {
      return tl::unexpected(fmt::format("query parameter '{}' given twice", *name));
    }
  }
  return params;
}

}  // namespace tilehv::api
