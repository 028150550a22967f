// Loading the tile section: its CPUs, memory, host reserve, sensors and uplink.
#include <fmt/format.h>

#include "policy/load_sections.hpp"
#include "sensors/sensor_model.hpp"

namespace tilehv::policy::detail {
namespace {

constexpr std::uint64_t kMaxDaySeconds = 366ULL * 86400;
constexpr std::size_t kMaxInterfaceName = 15;  // IFNAMSIZ less its NUL

// The source's fields depend on its kind; the kind is read first so that a field of another kind is
// reported as foreign rather than unknown.
std::string peek_kind(const YAML::Node& node) {
  if (!node.IsMap()) return {};
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == "kind" && it->second.IsScalar()) return it->second.Scalar();
  }
  return {};
}

void load_source(Reader& reader, const Field& field, SensorSource& source) {
  const std::string kind = peek_kind(field.value);
  const Fields fields = kind == "synthetic" ? Fields(reader, field, "a synthetic source", {"kind", "seed", "daySeconds"})
                        : kind == "trace"   ? Fields(reader, field, "a trace source", {"kind", "path"})
                        : kind == "iio"     ? Fields(reader, field, "an IIO source", {"kind", "device"})
                                            : Fields(reader, field, "a sensor source",
                                                     {"kind", "seed", "daySeconds", "path", "device"});
  if (auto f = fields.require("kind", "one of \"synthetic\", \"trace\", \"iio\"")) {
    if (auto k = read_choice(reader, *f, {"synthetic", "trace", "iio"})) {
      source.kind = *k == "synthetic" ? SensorSourceKind::kSynthetic
                    : *k == "trace"   ? SensorSourceKind::kTrace
                                      : SensorSourceKind::kIio;
    }
  }
  if (auto f = fields.get("seed")) source.seed = read_unsigned(reader, *f, 0, UINT64_MAX).value_or(source.seed);
  if (auto f = fields.get("daySeconds")) {
    source.day_seconds = read_unsigned(reader, *f, 1, kMaxDaySeconds).value_or(source.day_seconds);
  }
  if (kind == "trace") {
    if (auto f = fields.require("path", "the path of a CSV or JSON-lines trace")) {
      source.trace = read_string(reader, *f, "the path of a CSV or JSON-lines trace", kMaxPathBytes).value_or("");
    }
  }
  if (kind == "iio") {
    constexpr std::string_view kExpected = "an IIO device name such as \"iio:device0\"";
    if (auto f = fields.require("device", kExpected)) {
      auto device = read_string(reader, *f, kExpected, 64);
      const bool well_formed = device && device->starts_with("iio:device") && device->size() > 10 &&
                               device->find_first_not_of("0123456789", 10) == std::string::npos;
      if (device && !well_formed) reader.error(*f, std::string(kExpected));
      if (well_formed) source.iio_device = *device;
    }
  }
}

void load_sensor(Reader& reader, const Field& field, TileSensor& sensor) {
  const Fields fields(reader, field, "a sensor", {"name", "kind", "poePorts", "sharedRead", "source"});
  sensor.at = located(field);
  if (!fields.is_mapping()) return;
  if (auto f = fields.require("name", "a name")) sensor.name = read_name(reader, *f).value_or("");
  if (auto f = fields.require("kind", "a sensor kind")) {
    sensor.kind = read_choice(reader, *f, {"thermal", "piezo", "mmwave", "awg", "poe"}).value_or("");
  }
  if (auto f = fields.get("poePorts")) {
    if (sensor.kind != "poe") {
      reader.error(f->key_mark, f->path, fmt::format("poePorts on a sensor of kind {}", sensor.kind.empty() ? "?" : sensor.kind),
                   "poePorts only on a sensor of kind poe");
    } else {
      sensor.poe_ports = static_cast<std::uint32_t>(
          read_unsigned(reader, *f, 1, vdevices::sensors::Sensor::kMaxPoePorts).value_or(sensor.poe_ports));
    }
  }
  if (auto f = fields.get("sharedRead")) sensor.shared_read = read_bool(reader, *f).value_or(false);
  if (auto f = fields.get("source")) load_source(reader, *f, sensor.source);
}

}  // namespace

void load_tile(Reader& reader, const Field& field, Tile& tile) {
  const Fields fields(reader, field, "the tile", {"name", "cpus", "memory", "reserve", "sensors", "uplink"});
  tile.at = located(field);
  if (!fields.is_mapping()) return;
  if (auto f = fields.require("name", "a name")) tile.name = read_name(reader, *f).value_or("");
  if (auto f = fields.require("cpus", "a CPU list such as \"0-3\"")) tile.cpus = read_cpu_set(reader, *f).value_or(CpuSet{});
  if (auto f = fields.require("memory", "a size such as 4G")) tile.memory_bytes = read_size(reader, *f).value_or(0);
  if (auto reserve_field = fields.get("reserve")) {
    const Fields reserve(reader, *reserve_field, "the host reserve", {"cpus", "memory"});
    if (auto f = reserve.get("cpus")) tile.reserved_cpus = read_cpu_set(reader, *f).value_or(CpuSet{});
    if (auto f = reserve.get("memory")) tile.reserved_memory_bytes = read_size(reader, *f).value_or(0);
  }
  if (auto f = fields.get("sensors")) {
    for (const Field& item : read_list(reader, *f, kMaxSensors, "sensors").value_or(std::vector<Field>{})) {
      TileSensor sensor;
      load_sensor(reader, item, sensor);
      tile.sensors.push_back(std::move(sensor));
    }
  }
  if (auto uplink_field = fields.get("uplink")) {
    const Fields uplink(reader, *uplink_field, "the uplink", {"tap"});
    constexpr std::string_view kExpected = "a network interface name of 1 to 15 characters";
    if (auto f = uplink.require("tap", kExpected)) {
      auto tap = read_string(reader, *f, kExpected, kMaxInterfaceName);
      if (tap && (tap->empty() || tap->find_first_of("/ \t:") != std::string::npos || *tap == "." || *tap == "..")) {
        reader.error(*f, std::string(kExpected));
      } else if (tap) {
        tile.uplink_tap = *tap;
      }
    }
  }
}

}  // namespace tilehv::policy::detail
