// Confirmation: asking the operator before a change, the one question tilectl asks.
#pragma once

#include <istream>
#include <ostream>
#include <string_view>

namespace tilehv::tilectl {

// Writes "`question` [y/N] " and reads one line: true only for "y" or "yes" (any case, spaces
// around ignored). The end of input or anything else is a no: a change needs an explicit yes.
[[nodiscard]] bool confirm(std::ostream& out, std::istream& in, std::string_view question);

}  // namespace tilehv::tilectl
