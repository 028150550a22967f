// Event view: the one-line form of an event.
#include "tilectl/event_view.hpp"

#include <fmt/format.h>

#include "tilectl/json_fields.hpp"
#include "tilectl/table.hpp"

namespace tilehv::tilectl {

std::string render_event(const nlohmann::json& event) {
  return printable(fmt::format("{} {} {} {} {}", text_field(event, "seq"), text_field(event, "time"),
                               text_field(event, "type"), text_field(event, "partition"), text_field(event, "message", "")));
}

}  // namespace tilehv::tilectl
