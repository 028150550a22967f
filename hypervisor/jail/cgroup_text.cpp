// Cgroup text: the small formats of cgroup files and the weight/shares mapping.
#include "jail/cgroup_text.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace tilehv::jail {
namespace {

std::string_view trim(std::string_view text) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::string format_cpu_list(const std::set<std::uint32_t>& cpus) {
  std::string out;
  for (auto it = cpus.begin(); it != cpus.end();) {
    const std::uint32_t first = *it;
    std::uint32_t last = first;
    for (++it; it != cpus.end() && *it == last + 1; ++it) last = *it;
    if (!out.empty()) out += ',';
    out += first == last ? fmt::format("{}", first) : fmt::format("{}-{}", first, last);
  }
  return out;
}

tl::expected<std::set<std::uint32_t>, std::string> parse_cpu_list(std::string_view text) {
  std::set<std::uint32_t> cpus;
  std::string_view rest = trim(text);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const std::size_t dash = item.find('-');
    const auto first = parse_number<std::uint32_t>(item.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_number<std::uint32_t>(item.substr(dash + 1));
    if (!first || !last || *first > *last) {
      return tl::unexpected(fmt::format("'{}' is not a CPU list such as 0-2,5 (bad item '{}')", text, item));
    }
    if (*last > kMaxCpu) return tl::unexpected(fmt::format("CPU {} in '{}' is above {}", *last, text, kMaxCpu));
    for (std::uint32_t cpu = *first; cpu <= *last; ++cpu) cpus.insert(cpu);
  }
  return cpus;
}

std::uint64_t weight_to_shares(std::uint32_t weight) {
  return std::max<std::uint64_t>(2, std::uint64_t{weight} * 1024 / 100);
}

std::uint32_t shares_to_weight(std::uint64_t shares) {
  const std::uint64_t weight = (std::min<std::uint64_t>(shares, 1ULL << 40) * 100 + 512) / 1024;
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(weight, kMinCpuWeight, kMaxCpuWeight));
}

tl::expected<std::optional<std::uint64_t>, std::string> parse_limit(std::string_view text) {
  const std::string_view value = trim(text);
  if (value == "max") return std::optional<std::uint64_t>{};
  const auto number = parse_number<std::uint64_t>(value);
  if (!number) return tl::unexpected(fmt::format("'{}' is not a number or 'max'", value));
  return std::optional<std::uint64_t>{*number};
}

tl::expected<std::optional<std::uint64_t>, std::string> parse_cpu_max(std::string_view text) {
  const std::string_view value = trim(text);
  const std::size_t space = value.find(' ');
  if (space == std::string_view::npos) return tl::unexpected(fmt::format("cpu.max '{}' is not 'QUOTA PERIOD'", value));
  const auto period = parse_number<std::uint64_t>(value.substr(space + 1));
  if (!period || *period == 0) return tl::unexpected(fmt::format("cpu.max '{}' has no valid period", value));
  const auto quota = parse_limit(value.substr(0, space));
  if (!quota) return tl::unexpected(fmt::format("cpu.max '{}' has no valid quota", value));
  if (!*quota) return std::optional<std::uint64_t>{};
  if (**quota > (UINT64_MAX / kCpuPeriodUs)) return tl::unexpected(fmt::format("cpu.max '{}' is out of range", value));
  return std::optional<std::uint64_t>{**quota * kCpuPeriodUs / *period};
}

std::string format_cpu_max(std::optional<std::uint64_t> quota_us) {
  return quota_us ? fmt::format("{} {}", *quota_us, kCpuPeriodUs) : fmt::format("max {}", kCpuPeriodUs);
}

tl::expected<std::map<std::string, std::string>, std::string> parse_proc_cgroup(std::string_view text) {
  std::map<std::string, std::string> groups;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (trim(line).empty()) continue;
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos || line.substr(second + 1).empty() || line[second + 1] != '/') {
      return tl::unexpected(fmt::format("'{}' is not an 'ID:CONTROLLERS:/PATH' line", line));
    }
    const std::string path(line.substr(second + 1));
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    if (controllers.empty()) {
      groups[""] = path;
      continue;
    }
    while (!controllers.empty()) {
      const std::size_t comma = controllers.find(',');
      groups[std::string(controllers.substr(0, comma))] = path;
      controllers = comma == std::string_view::npos ? std::string_view{} : controllers.substr(comma + 1);
    }
  }
  return groups;
}

}  // namespace tilehv::jail
