// FileReader: reads a whole small host file (a trace, a sysfs attribute) with a size bound, so a huge
// or endless file cannot exhaust memory and a FIFO cannot block the I/O plane.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include <tl/expected.hpp>

#include "sensors/error.hpp"

namespace tilehv::vdevices::sensors {

// The file's contents; refused when it is not a regular file or holds more than max_bytes.
// Errors are ErrorKind::not_found for a missing file, ErrorKind::io otherwise.
[[nodiscard]] tl::expected<std::string, Error> read_small_file(const std::filesystem::path& path, std::size_t max_bytes);

}  // namespace tilehv::vdevices::sensors
