// Quote: shows an untrusted token (from a trace file or a guest command) inside a message: quoted,
// shortened, unprintable bytes escaped, so a message never carries control characters or newlines
// from its input (a newline would forge a stream line).
#pragma once

#include <string>
#include <string_view>

namespace tilehv::vdevices::sensors {

[[nodiscard]] std::string quote(std::string_view token);

}  // namespace tilehv::vdevices::sensors
