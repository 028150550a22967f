// Run options: what `tilehv run` was asked to do, parsed and checked.
#include "cli/run_options.hpp"

#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace tilehv::cli {

tl::expected<std::uint64_t, std::string> parse_memory_size(const std::string& text) {
  std::uint64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) {
    return tl::unexpected(fmt::format("memory size '{}' is not a number with an optional K, M, G or T suffix", text));
  }
  std::string suffix(ptr, end);
  for (auto& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  unsigned shift = 20;  // bare numbers are MiB
  if (suffix == "K" || suffix == "KIB") shift = 10;
  else if (suffix == "M" || suffix == "MIB" || suffix.empty()) shift = 20;
  else if (suffix == "G" || suffix == "GIB") shift = 30;
  else if (suffix == "T" || suffix == "TIB") shift = 40;
  else return tl::unexpected(fmt::format("memory size '{}' has an unknown suffix '{}' (use K, M, G or T)", text, std::string(ptr, end)));
  if (value > (UINT64_MAX >> shift)) {
    return tl::unexpected(fmt::format("memory size '{}' is too large", text));
  }
  return value << shift;
}

tl::expected<ConsoleTarget, std::string> parse_console(const std::string& text) {
  if (text == "stdout") return ConsoleTarget{ConsoleTarget::Kind::kStdout, {}};
  constexpr std::string_view kFilePrefix = "file:";
  if (text.starts_with(kFilePrefix)) {
    std::string path = text.substr(kFilePrefix.size());
    if (path.empty()) return tl::unexpected(std::string("console 'file:' needs a path, e.g. file:/tmp/console.log"));
    return ConsoleTarget{ConsoleTarget::Kind::kFile, std::move(path)};
  }
  return tl::unexpected(fmt::format("console '{}' is not 'stdout' or 'file:PATH'", text));
}

tl::expected<double, std::string> parse_timeout(const std::string& text) {
  double seconds = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(seconds) || seconds <= 0 ||
      seconds > kMaxTimeoutSeconds) {
    return tl::unexpected(fmt::format("timeout '{}' must be a number of seconds greater than 0", text));
  }
  return seconds;
}

}  // namespace tilehv::cli
