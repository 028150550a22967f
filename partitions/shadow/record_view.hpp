// RecordView: the part of an output record that a comparison rule judges. A network frame's rule
// looks at its UDP payload (the application's message: the headers around it follow from it and
// from the addresses the shadow shares with its live partition), a channel packet's at the data
// after its vsock header, a sensor command at its text. Records that are not what their stream
// carries (a frame that is not IPv4/UDP) are judged whole.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "policy/shadow_spec.hpp"

namespace tilehv::shadow {

// The bytes a rule compares: `body` for field rules; `whole` for exact rules.
struct RecordView {
  std::span<const std::uint8_t> whole;
  std::span<const std::uint8_t> body;
  std::string key;  // records of one stream are compared only within the same key (a UDP port, a vsock port)
};

[[nodiscard]] RecordView view_record(policy::OutputStream stream, std::span<const std::uint8_t> record);

// A text record's fields: `key=value` words (a word without '=' is the positional field "#N"), or
// the members of one JSON object (nested values as their JSON text). nullopt: not text of either kind.
using RecordFields = std::map<std::string, std::string, std::less<>>;
[[nodiscard]] std::optional<RecordFields> parse_fields(std::span<const std::uint8_t> text);

}  // namespace tilehv::shadow
