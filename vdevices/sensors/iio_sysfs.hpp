// IIO sysfs: discovery and reading of the host's Linux IIO sensors under a sysfs root (normally
// /sys/bus/iio/devices; a parameter so tests can build a fake tree). Follows the kernel's
// Documentation/ABI/testing/sysfs-bus-iio naming: in_<type>[<index>][_<modifier>]_{input,raw} with
// optional _scale and _offset, per channel or shared by type.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "sensors/error.hpp"

namespace tilehv::vdevices::sensors {

inline constexpr const char* kDefaultIioRoot = "/sys/bus/iio/devices";

// The IIO channel types tilehv maps onto sensor channels, with their IIO units after scaling.
enum class IioType : std::uint8_t {
  temp,              // milli degrees Celsius
  humidityrelative,  // milli percent
  accel,             // m/s^2
  power,             // milliwatts
};

struct IioChannelInfo {
  std::string device;       // directory name, "iio:device0"
  std::string device_name;  // contents of its `name` attribute ("" when absent)
  std::string prefix;       // attribute prefix, "in_temp0", "in_accel_z"
  IioType type = IioType::temp;
  bool has_input = false;   // <prefix>_input: the driver's processed value
  bool has_raw = false;     // <prefix>_raw, to scale with (_raw + _offset) * _scale
};

// Every supported channel of every iio:deviceN under root, in device-number then name order. A
// missing root is ErrorKind::not_found; a root without devices gives an empty list.
[[nodiscard]] tl::expected<std::vector<IioChannelInfo>, Error> discover_iio(const std::filesystem::path& root);

// The channel's current value converted to the milli-units of tilehv's channel for this type (milli
// degC, milli %RH, milli m/s^2, mW), rounded half away from zero. Uses _input when present, else
// (_raw + _offset) * _scale, taking _offset and _scale from the channel or else shared by type.
[[nodiscard]] tl::expected<std::int64_t, Error> read_iio_milli(const std::filesystem::path& root,
                                                               const IioChannelInfo& channel);

[[nodiscard]] std::string_view iio_type_name(IioType type) noexcept;

}  // namespace tilehv::vdevices::sensors
