// Checks of sensors: sensor-exists, sensor-ownership, sensor-sources and rate-bounds.
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "policy/check_support.hpp"
#include "sensors/sensor_model.hpp"

namespace tilehv::policy::detail {
namespace {

const TileSensor* find_sensor(const Tile& tile, const std::string& name) {
  for (const TileSensor& sensor : tile.sensors) {
    if (sensor.name == name) return &sensor;
  }
  return nullptr;
}

std::string sensor_names(const Tile& tile) {
  std::string names;
  std::set<std::string> listed;
  for (const TileSensor& sensor : tile.sensors) {
    if (listed.insert(sensor.name).second) names += (names.empty() ? "" : ", ") + sensor.name;
  }
  return names.empty() ? "none is declared" : names;
}

std::string hz(std::uint64_t millihertz) { return fmt::format("{:g}", static_cast<double>(millihertz) / 1000.0); }

}  // namespace

void check_sensor_exists(const Policy& policy, std::vector<Diagnostic>& findings) {
  if (!sensor_names_known(policy)) return;
  for (std::size_t i = 0; i < policy.partitions.size(); ++i) {
    const auto& assignments = policy.partitions[i].sensors;
    for (std::size_t k = 0; k < assignments.size(); ++k) {
      const std::string path = assignment_path(i, k) + ".sensor";
      if (malformed(policy, path) || find_sensor(policy.tile, assignments[k].sensor)) continue;
      report(policy, findings, path, as_written(assignments[k].sensor),
             fmt::format("a sensor of the tile ({})", sensor_names(policy.tile)), "sensor-exists");
    }
  }
}

void check_sensor_ownership(const Policy& policy, std::vector<Diagnostic>& findings) {
  std::map<std::string, std::size_t> first_owner;  // sensor -> partition index
  for (std::size_t i = 0; i < policy.partitions.size(); ++i) {
    const auto& assignments = policy.partitions[i].sensors;
    for (std::size_t k = 0; k < assignments.size(); ++k) {
      const std::string path = assignment_path(i, k) + ".sensor";
      const TileSensor* sensor = find_sensor(policy.tile, assignments[k].sensor);
      if (malformed(policy, path) || sensor == nullptr) continue;
      const auto [owner, inserted] = first_owner.emplace(sensor->name, i);
      if (inserted) continue;
      if (owner->second == i) {
        report(policy, findings, path, fmt::format("{} a second time", as_written(sensor->name)),
               "each sensor once per partition", "sensor-ownership");
      } else if (!sensor->shared_read) {
        report(policy, findings, path,
               fmt::format("{}, which {} ({}) is given too", as_written(sensor->name),
                           as_written(policy.partitions[owner->second].name), partition_path(owner->second)),
               "a sensor of this partition alone, or one declared sharedRead: true", "sensor-ownership");
      }
    }
  }
}

void check_sensor_sources(const Policy& policy, std::vector<Diagnostic>& findings) {
  for (std::size_t s = 0; s < policy.tile.sensors.size(); ++s) {
    const SensorSource& source = policy.tile.sensors[s].source;
    const std::string path = sensor_path(s) + ".source.path";
    if (source.kind != SensorSourceKind::kTrace || source.trace.empty() || malformed(policy, path)) continue;
    const std::filesystem::path file = std::filesystem::path(policy.base_dir) / source.trace;
    std::error_code error;
    const auto status = std::filesystem::status(file, error);
    if (!std::filesystem::exists(status)) {
      report(policy, findings, path, fmt::format("{}, which does not exist", as_written(source.trace)),
             "a trace file (relative to the policy's folder)", "sensor-sources");
    } else if (!std::filesystem::is_regular_file(status)) {
      report(policy, findings, path, fmt::format("{}, which is not a regular file", as_written(source.trace)),
             "a trace file (relative to the policy's folder)", "sensor-sources");
    }
  }
}

void check_rate_bounds(const Policy& policy, std::vector<Diagnostic>& findings) {
  namespace sensors = vdevices::sensors;
  for (std::size_t i = 0; i < policy.partitions.size(); ++i) {
    const auto& assignments = policy.partitions[i].sensors;
    for (std::size_t k = 0; k < assignments.size(); ++k) {
      const SensorAssignment& assignment = assignments[k];
      const std::string path = assignment_path(i, k) + ".rateHz";
      const TileSensor* declared = find_sensor(policy.tile, assignment.sensor);
      if (!assignment.rate_hz || declared == nullptr || malformed(policy, path)) continue;
      const RateBoundsHz bounds = *assignment.rate_hz;
      if (bounds.min > bounds.max) {
        report(policy, findings, path + ".min", fmt::format("{:g}, above max {:g}", bounds.min, bounds.max),
               "min no higher than max", "rate-bounds");
        continue;
      }
      const auto kind = sensors::parse_kind(declared->kind);
      if (!kind) continue;
      // The device model is the authority on what each channel of the kind can do.
      auto device = sensors::Sensor::create(sensors::SensorSpec{declared->name, *kind, declared->poe_ports});
      if (!device) continue;
      const auto min_mhz = static_cast<std::uint64_t>(std::llround(bounds.min * 1000.0));
      const auto max_mhz = static_cast<std::uint64_t>(std::llround(bounds.max * 1000.0));
      for (std::size_t c = 0; c < device->channels().size(); ++c) {
        if (device->restrict_rates(c, min_mhz, max_mhz)) continue;
        const sensors::Channel& channel = device->channel(c);
        report(policy, findings, path, fmt::format("{:g} to {:g} Hz", bounds.min, bounds.max),
               fmt::format("bounds within what the {} channel of a {} sensor does: {} to {} Hz", channel.name,
                           declared->kind, hz(channel.device_min_rate_mhz), hz(channel.device_max_rate_mhz)),
               "rate-bounds");
        break;
      }
    }
  }
}

}  // namespace tilehv::policy::detail
