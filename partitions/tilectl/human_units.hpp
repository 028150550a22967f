// Human units for tables: sizes in binary multiples and durations in the two largest units, so that
// a column can be read at a glance ("256 MiB", "3h04m"). Scripts use -o json for the exact numbers.
#pragma once

#include <cstdint>
#include <string>

namespace tilehv::tilectl {

// "0 B", "512 B", "4 KiB", "1.5 GiB": one decimal when the value is not a whole number of its unit.
[[nodiscard]] std::string format_bytes(std::uint64_t bytes);

// "42s", "5m12s", "3h04m", "2d03h". Negative or non-finite values (a clock gone wrong) give "-".
[[nodiscard]] std::string format_duration(double seconds);

}  // namespace tilehv::tilectl
