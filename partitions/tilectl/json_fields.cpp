// Defensive field access on the daemon's JSON.
#include "tilectl/json_fields.hpp"

namespace tilehv::tilectl {
namespace {

const nlohmann::json kNull;

}  // namespace

const nlohmann::json& field(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return kNull;
  const auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string text_field(const nlohmann::json& object, std::string_view key, std::string_view fallback) {
  const nlohmann::json& value = field(object, key);
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean()) return value.dump();
  return std::string(fallback);
}

std::optional<std::uint64_t> unsigned_field(const nlohmann::json& object, std::string_view key) {
  const nlohmann::json& value = field(object, key);
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(value.get<std::int64_t>());
  return std::nullopt;
}

std::optional<double> number_field(const nlohmann::json& object, std::string_view key) {
  const nlohmann::json& value = field(object, key);
  if (value.is_number()) return value.get<double>();
  return std::nullopt;
}

}  // namespace tilehv::tilectl
