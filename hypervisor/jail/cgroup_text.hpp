// Cgroup text: the small formats of cgroup files (CPU lists, cpu.max, /proc/PID/cgroup) and the
// CPU weight's mapping onto v1 shares, as pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace tilehv::jail {

// CPU numbers above this are refused: no tile has that many, and a hostile list stays small.
inline constexpr std::uint32_t kMaxCpu = 4095;
// cgroup v2's cpu.weight range; v1 has cpu.shares instead.
inline constexpr std::uint32_t kMinCpuWeight = 1;
inline constexpr std::uint32_t kMaxCpuWeight = 10000;
// The CPU quota is given per period of this length (cpu.cfs_period_us, the period in cpu.max).
inline constexpr std::uint64_t kCpuPeriodUs = 100'000;

// "0-2,5" for {0,1,2,5}; the kernel's list syntax (cpuset.cpus).
[[nodiscard]] std::string format_cpu_list(const std::set<std::uint32_t>& cpus);
// The kernel's list syntax back into numbers; an empty (or all-blank) text is the empty set.
[[nodiscard]] tl::expected<std::set<std::uint32_t>, std::string> parse_cpu_list(std::string_view text);

// v1 cpu.shares for a v2 weight: the default weight 100 is the default 1024 shares (at least 2, the
// kernel's minimum).
[[nodiscard]] std::uint64_t weight_to_shares(std::uint32_t weight);
// The weight that maps to these shares, rounded to the nearest and clamped to 1..10000.
[[nodiscard]] std::uint32_t shares_to_weight(std::uint64_t shares);

// A decimal unsigned number, surrounding blanks (the file's newline) ignored; "max" is nullopt.
[[nodiscard]] tl::expected<std::optional<std::uint64_t>, std::string> parse_limit(std::string_view text);

// v2 cpu.max "QUOTA PERIOD" ("max 100000": no quota), as the quota per kCpuPeriodUs.
[[nodiscard]] tl::expected<std::optional<std::uint64_t>, std::string> parse_cpu_max(std::string_view text);
[[nodiscard]] std::string format_cpu_max(std::optional<std::uint64_t> quota_us);

// /proc/PID/cgroup ("ID:CONTROLLERS:PATH" per line) as controller -> path; the v2 hierarchy's line
// ("0::PATH") is under the key "" and a named v1 hierarchy under "name=NAME".
[[nodiscard]] tl::expected<std::map<std::string, std::string>, std::string> parse_proc_cgroup(std::string_view text);

}  // namespace tilehv::jail
