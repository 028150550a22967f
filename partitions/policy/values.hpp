// Policy values written as text: sizes ("64M") and CPU sets ("0-3,6"), parsed and printed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policy/policy.hpp"

namespace tilehv::policy {

// The highest CPU number a CPU set may name: far above any tile, low enough that a set stays small.
inline constexpr std::uint32_t kMaxCpuId = 1023;

// "<digits><unit>", the unit one of K, M, G, T (or KiB, MiB, GiB, TiB; any case), binary multiples.
// The unit is required: the tilehv CLI reads a bare number as MiB, and a file should not make its
// reader know that. nullopt when malformed or above 2^64-1.
[[nodiscard]] std::optional<std::uint64_t> parse_size(std::string_view text);
// In the largest unit that divides it exactly ("64M"), else in bytes ("1536 bytes").
[[nodiscard]] std::string format_size(std::uint64_t bytes);

// "0-3,6": CPU numbers and inclusive ranges, comma-separated, no spaces, each at most kMaxCpuId.
[[nodiscard]] std::optional<CpuSet> parse_cpu_set(std::string_view text);
// The shortest such text: {0,1,2,3,6} -> "0-3,6"; the empty set -> "".
[[nodiscard]] std::string format_cpu_set(const CpuSet& cpus);

}  // namespace tilehv::policy
