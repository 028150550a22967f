// Jail options: the `--jail uid=N,gid=N` value, parsed and checked.
#include "jail/jail_options.hpp"

#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace tilehv::jail {
namespace {

// (uid_t)-1 means "unchanged" to setresuid; it is no identity.
constexpr std::uint32_t kNoId = 0xffff'ffff;

tl::expected<std::uint32_t, std::string> parse_id(std::string_view key, std::string_view value) {
  std::uint32_t id = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
  if (ec != std::errc() || ptr != value.data() + value.size() || value.empty()) {
    return tl::unexpected(fmt::format("jail {} '{}' is not a number", key, value));
  }
  if (id == 0 || id == kNoId) return tl::unexpected(fmt::format("jail {} {} is not allowed (0 is root)", key, id));
  return id;
}

}  // namespace

tl::expected<JailOptions, std::string> parse_jail_ids(std::string_view text) {
  std::optional<std::uint32_t> uid, gid;
  if (text.ends_with(',')) return tl::unexpected(fmt::format("jail '{}' ends with a comma", text));
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const std::size_t equals = item.find('=');
    const std::string_view key = item.substr(0, equals);
    const std::string_view value = equals == std::string_view::npos ? std::string_view{} : item.substr(equals + 1);
    std::optional<std::uint32_t>* slot = key == "uid" ? &uid : key == "gid" ? &gid : nullptr;
    if (slot == nullptr || equals == std::string_view::npos) {
      return tl::unexpected(fmt::format("jail option '{}' is not uid=N or gid=N", item));
    }
    if (slot->has_value()) return tl::unexpected(fmt::format("jail option '{}' is given twice", key));
    auto id = parse_id(key, value);
    if (!id) return tl::unexpected(id.error());
    *slot = *id;
  }
  if (!uid || !gid) return tl::unexpected(fmt::format("jail '{}' needs both uid=N and gid=N", text));
  JailOptions options;
  options.uid = *uid;
  options.gid = *gid;
  return options;
}

std::string format_jail_ids(uid_t uid, gid_t gid) { return fmt::format("uid={},gid={}", uid, gid); }

}  // namespace tilehv::jail
