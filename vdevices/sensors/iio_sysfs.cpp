// IIO sysfs: discovery and reading of the host's Linux IIO sensors under a sysfs root.
#include "sensors/iio_sysfs.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <system_error>

#include <fmt/format.h>

#include "sensors/decimal.hpp"
#include "sensors/file_reader.hpp"

namespace tilehv::vdevices::sensors {
namespace {

namespace fs = std::filesystem;
__extension__ using i128 = __int128;

// sysfs is the host kernel's, but a bound on what one scan visits costs nothing and keeps a broken
// or hostile tree (a test's, a container's bind mount) from stalling the I/O plane.
constexpr std::size_t kMaxDevices = 256;
constexpr std::size_t kMaxEntriesPerDevice = 4096;
constexpr std::size_t kMaxAttributeBytes = 64;
constexpr std::int64_t kNano = 1'000'000'000;

constexpr std::array<std::string_view, 4> kTypeNames = {"temp", "humidityrelative", "accel", "power"};
// Modifiers a value channel may carry; others (mean, peak, thresh...) are not instantaneous values.
constexpr std::array<std::string_view, 5> kModifiers = {"x", "y", "z", "ambient", "object"};

std::optional<std::uint64_t> device_number(std::string_view dir) {
  constexpr std::string_view kPrefix = "iio:device";
  if (!dir.starts_with(kPrefix)) return std::nullopt;
  return parse_u64(dir.substr(kPrefix.size()));
}

// "in_accel_z_raw" -> {prefix "in_accel_z", type accel, raw}; nullopt for anything else.
struct AttributeName {
  std::string prefix;
  IioType type;
  bool input;
};

std::optional<AttributeName> parse_attribute(std::string_view file) {
  bool input = false;
  if (file.ends_with("_input")) {
    input = true;
    file.remove_suffix(6);
  } else if (file.ends_with("_raw")) {
    file.remove_suffix(4);
  } else {
    return std::nullopt;
  }
  if (!file.starts_with("in_")) return std::nullopt;
  const std::string_view prefix = file;
  file.remove_prefix(3);
  for (std::size_t t = 0; t < kTypeNames.size(); ++t) {
    if (!file.starts_with(kTypeNames[t])) continue;
    std::string_view rest = file.substr(kTypeNames[t].size());
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') rest.remove_prefix(1);
    if (!rest.empty()) {
      if (rest.front() != '_') continue;  // "in_temperature..." is not "in_temp"
      rest.remove_prefix(1);
      if (std::find(kModifiers.begin(), kModifiers.end(), rest) == kModifiers.end()) return std::nullopt;
    }
    return AttributeName{std::string(prefix), static_cast<IioType>(t), input};
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Reads an attribute as a fixed-point number with `fraction` digits: 9 (nano) for values, offsets
// and scales, since IIO prints at most 9; 0 for raw readings, which are integers.
tl::expected<std::optional<std::int64_t>, Error> read_fixed(const fs::path& file, bool required, int fraction) {
  auto text = read_small_file(file, kMaxAttributeBytes);
  if (!text) {
    if (!required && text.error().kind == ErrorKind::not_found) return std::optional<std::int64_t>{};
    return tl::unexpected(text.error());
  }
  const auto value = parse_fixed(trim(*text), fraction);
  if (!value) {
    return tl::unexpected(
        Error{ErrorKind::io, fmt::format("{}: expected a decimal number, found \"{}\"", file.string(), trim(*text))});
  }
  return std::optional<std::int64_t>{*value};
}

// The per-channel attribute, else the one shared by all channels of the type (in_accel_scale).
tl::expected<std::optional<std::int64_t>, Error> read_shared(const fs::path& dir, const IioChannelInfo& c,
                                                             std::string_view what) {
  auto own = read_fixed(dir / fmt::format("{}_{}", c.prefix, what), false, 9);
  if (!own || *own) return own;
  return read_fixed(dir / fmt::format("in_{}_{}", iio_type_name(c.type), what), false, 9);
}

// IIO units to tilehv channel milli-units: only acceleration is not already milli (m/s^2).
std::int64_t milli_factor(IioType type) { return type == IioType::accel ? 1'000 : 1; }

// Raw readings are ADC codes; bounding them keeps (raw + offset) * scale inside 128 bits.
constexpr std::int64_t kMaxRaw = std::int64_t{1} << 40;

std::int64_t round_div(i128 num, i128 den) {
  const i128 half = den / 2;
  const i128 q = num >= 0 ? (num + half) / den : (num - half) / den;
  const i128 lo = INT64_MIN;
  const i128 hi = INT64_MAX;
  return static_cast<std::int64_t>(std::clamp(q, lo, hi));
}

}  // namespace

std::string_view iio_type_name(IioType type) noexcept { return kTypeNames[static_cast<std::size_t>(type)]; }

tl::expected<std::vector<IioChannelInfo>, Error> discover_iio(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return tl::unexpected(Error{ErrorKind::not_found, fmt::format("no IIO devices: {} is not a directory "
                                                                  "(is the industrialio module loaded?)",
                                                                  root.string())});
  }
  std::vector<std::pair<std::uint64_t, std::string>> devices;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end && devices.size() < kMaxDevices; it.increment(ec)) {
    const std::string dir = it->path().filename().string();
    if (const auto n = device_number(dir)) devices.emplace_back(*n, dir);
  }
  if (ec) return tl::unexpected(Error{ErrorKind::io, fmt::format("{}: {}", root.string(), ec.message())});
  std::sort(devices.begin(), devices.end());

  std::vector<IioChannelInfo> found;
  for (const auto& [number, dir] : devices) {
    const fs::path path = root / dir;
    auto name = read_small_file(path / "name", kMaxAttributeBytes);
    const std::string device_name = name ? std::string(trim(*name)) : std::string();
    std::vector<IioChannelInfo> channels;
    std::size_t visited = 0;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end && visited < kMaxEntriesPerDevice;
         it.increment(ec), ++visited) {
      const auto attribute = parse_attribute(it->path().filename().string());
      if (!attribute) continue;
      auto same = std::find_if(channels.begin(), channels.end(),
                               [&](const IioChannelInfo& c) { return c.prefix == attribute->prefix; });
      if (same == channels.end()) {
        channels.push_back(IioChannelInfo{dir, device_name, attribute->prefix, attribute->type, false, false});
        same = channels.end() - 1;
      }
      (attribute->input ? same->has_input : same->has_raw) = true;
    }
    if (ec) return tl::unexpected(Error{ErrorKind::io, fmt::format("{}: {}", path.string(), ec.message())});
    std::sort(channels.begin(), channels.end(),
              [](const IioChannelInfo& a, const IioChannelInfo& b) { return a.prefix < b.prefix; });
    found.insert(found.end(), channels.begin(), channels.end());
  }
  return found;
}

tl::expected<std::int64_t, Error> read_iio_milli(const fs::path& root, const IioChannelInfo& c) {
  const fs::path dir = root / c.device;
  const std::int64_t factor = milli_factor(c.type);
  if (c.has_input) {
    auto input = read_fixed(dir / (c.prefix + "_input"), true, 9);
    if (!input) return tl::unexpected(input.error());
    return round_div(static_cast<i128>(**input) * factor, kNano);
  }
  auto raw = read_fixed(dir / (c.prefix + "_raw"), true, 0);
  if (!raw) return tl::unexpected(raw.error());
  if (**raw > kMaxRaw || **raw < -kMaxRaw) {
    return tl::unexpected(Error{ErrorKind::io, fmt::format("{}/{}_raw: {} is beyond +-2^40", dir.string(), c.prefix, **raw)});
  }
  auto offset = read_shared(dir, c, "offset");
  if (!offset) return tl::unexpected(offset.error());
  auto scale = read_shared(dir, c, "scale");
  if (!scale) return tl::unexpected(scale.error());
  // (raw + offset) * scale with offset and scale in nano-units: the product carries 1e18, of which
  // the milli factor is kept. Magnitude at most 2^41 * 1e9 * 9.2e15, about 2^124, inside 128 bits.
  const i128 sum = static_cast<i128>(**raw) * kNano + offset->value_or(0);
  const i128 product = sum * scale->value_or(kNano);
  return round_div(product, static_cast<i128>(kNano) * kNano / factor);
}

}  // namespace tilehv::vdevices::sensors
