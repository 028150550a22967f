// Reading the daemon's JSON defensively: a field that is missing or of another type than expected
// (an older or newer daemon, or a broken one) prints as "-" instead of throwing halfway through a table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tilehv::tilectl {

// The field as text: a string as it is, a number or boolean as JSON writes it, anything else
// (missing, null, object, array) as `fallback`. `object` itself may be of any type.
[[nodiscard]] std::string text_field(const nlohmann::json& object, std::string_view key, std::string_view fallback = "-");

// The field as a non-negative integer, if it is one.
[[nodiscard]] std::optional<std::uint64_t> unsigned_field(const nlohmann::json& object, std::string_view key);

// The field as a number (integer or floating point), if it is one.
[[nodiscard]] std::optional<double> number_field(const nlohmann::json& object, std::string_view key);

// The field itself, or null when `object` is not an object or lacks it.
[[nodiscard]] const nlohmann::json& field(const nlohmann::json& object, std::string_view key);

}  // namespace tilehv::tilectl
