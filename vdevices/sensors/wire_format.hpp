// Wire format: the text lines of a sensor port's byte stream, version 1 (docs/sensors.md). Lines
// starting with a digit are samples "<seq> <timestamp_ns> <channel> <value_milli>"; lines starting
// with '#' are metadata. Integers only, so an integer-only guest parses it with a few lines of code
// and a stock Linux guest reads it with cat.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sensors/sensor_model.hpp"

namespace tilehv::vdevices::sensors {

inline constexpr std::uint32_t kWireVersion = 1;
// Values are milli-units: physical value = value / kWireScale.
inline constexpr std::int64_t kWireScale = 1000;

// "#tilehv-sensor v1 name=.. kind=.. source=.. channels=N" then one "#channel" line per channel.
[[nodiscard]] std::string header_lines(const Sensor& sensor, std::string_view source_kind);
[[nodiscard]] std::string sample_line(const Sample& sample);
[[nodiscard]] std::string dropped_line(std::uint64_t count);
[[nodiscard]] std::string rate_ok_line(std::size_t channel, std::uint64_t rate_mhz, std::uint64_t from_ns);
// `message` may come from guest input: it is cut at the first control character.
[[nodiscard]] std::string error_line(std::string_view message);
[[nodiscard]] std::string fault_line(std::string_view message);
[[nodiscard]] std::string end_line();

}  // namespace tilehv::vdevices::sensors
