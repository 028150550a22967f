// Policy values written as text: sizes and CPU sets.
#include "policy/values.hpp"

#include <array>
#include <charconv>

#include <fmt/format.h>

namespace tilehv::policy {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

struct Unit {
  std::string_view short_name;
  std::string_view long_name;
  unsigned shift;
};
constexpr std::array<Unit, 4> kUnits = {{{"K", "KiB", 10}, {"M", "MiB", 20}, {"G", "GiB", 30}, {"T", "TiB", 40}}};

std::optional<std::uint32_t> parse_cpu(std::string_view text) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || value > kMaxCpuId) return std::nullopt;
  if (text.size() > 1 && text.front() == '0') return std::nullopt;  // "01" is not how a CPU is named
  return value;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  const std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  for (const Unit& unit : kUnits) {
    if (equal_ignoring_case(suffix, unit.short_name) || equal_ignoring_case(suffix, unit.long_name)) {
      if (value > (UINT64_MAX >> unit.shift)) return std::nullopt;
      return value << unit.shift;
    }
  }
  return std::nullopt;
}

std::string format_size(std::uint64_t bytes) {
  for (auto unit = kUnits.rbegin(); unit != kUnits.rend(); ++unit) {
    const std::uint64_t one = std::uint64_t{1} << unit->shift;
    if (bytes != 0 && bytes % one == 0) return fmt::format("{}{}", bytes / one, unit->short_name);
  }
  return fmt::format("{} bytes", bytes);
}

std::optional<CpuSet> parse_cpu_set(std::string_view text) {
  CpuSet cpus;
  if (text.empty()) return std::nullopt;
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const std::size_t dash = item.find('-');
    const auto first = parse_cpu(item.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_cpu(item.substr(dash + 1));
    if (!first || !last || *first > *last) return std::nullopt;
    for (std::uint32_t cpu = *first; cpu <= *last; ++cpu) cpus.insert(cpu);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return cpus;
}

std::string format_cpu_set(const CpuSet& cpus) {
  std::string out;
  for (auto it = cpus.begin(); it != cpus.end();) {
    const std::uint32_t first = *it;
    std::uint32_t last = first;
    ++it;
    while (it != cpus.end() && *it == last + 1) {
      last = *it;
      ++it;
    }
    if (!out.empty()) out += ',';
    out += first == last ? fmt::format("{}", first) : fmt::format("{}-{}", first, last);
  }
  return out;
}

}  // namespace tilehv::policy
