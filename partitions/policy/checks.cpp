// Semantic checks: the table, in the order they run, and what they share.
#include "policy/checks.hpp"

#include <array>

#include "policy/check_support.hpp"

namespace tilehv::policy {
namespace {

constexpr std::array<Check, 15> kChecks = {{
    {"api-version", "apiVersion is one this tilehv reads", detail::check_api_version},
    {"unique-names", "partitions, sensors and channels each have names of their own", detail::check_unique_names},
    {"resources-fit-tile", "memory, vCPUs and CPUs fit the tile once its host reserve is set aside",
     detail::check_resources_fit_tile},
    {"exclusive-cpus", "a pinned partition's CPUs are used by no other partition", detail::check_exclusive_cpus},
    {"sensor-exists", "every sensor a partition is given is a sensor of the tile", detail::check_sensor_exists},
    {"sensor-ownership", "a sensor goes to one partition unless it is shared-read", detail::check_sensor_ownership},
    {"sensor-sources", "trace files of sensors exist", detail::check_sensor_sources},
    {"rate-bounds", "rate bounds lie within what the sensor device does", detail::check_rate_bounds},
    {"network", "unicast, unique MAC addresses; MTUs the switch carries; allow-lists naming peers",
     detail::check_network},
    {"channels", "channels join existing partitions (or the host) on unique, valid ports", detail::check_channels},
    {"images", "kernel images exist, are regular files and match their sha256", detail::check_images},
    {"shadows", "shadows name a partition of their own, a candidate image matching its sha256 and sound comparison rules",
     detail::check_shadows},
    {"signatures", "trusted keys are Ed25519 and signed candidates carry their key's signature", detail::check_signatures},
    {"restart", "restart backoff starts no higher than its maximum", detail::check_restart},
    {"unjailed", "development.unjailed says exactly the documented sentence", detail::check_unjailed},
}};

}  // namespace

std::span<const Check> semantic_checks() { return kChecks; }

const Check* find_check(std::string_view name) {
  for (const Check& check : kChecks) {
    if (check.name == name) return &check;
  }
  return nullptr;
}

namespace detail {

void report(const Policy& policy, std::vector<Diagnostic>& findings, const std::string& path, std::string found,
            std::string expected, std::string_view check) {
  const Located at = policy.locate(path);
  findings.push_back(Diagnostic{policy.display_name, at.line, at.column, path, std::move(found), std::move(expected),
                                std::string(check)});
}

bool malformed(const Policy& policy, const std::string& path) {
  if (policy.malformed_fields.contains("")) return true;  // the document itself is not a mapping
  std::string prefix = path;
  while (!prefix.empty()) {
    if (policy.malformed_fields.contains(prefix)) return true;
    const std::size_t cut = prefix.find_last_of(".[");
    prefix = cut == std::string::npos ? std::string() : prefix.substr(0, cut);
  }
  return false;
}

bool partition_names_known(const Policy& policy) {
  if (malformed(policy, "partitions")) return false;
  for (std::size_t i = 0; i < policy.partitions.size(); ++i) {
    if (malformed(policy, partition_path(i) + ".name")) return false;
  }
  return true;
}

bool sensor_names_known(const Policy& policy) {
  if (malformed(policy, "tile.sensors")) return false;
  for (std::size_t i = 0; i < policy.tile.sensors.size(); ++i) {
    if (malformed(policy, sensor_path(i) + ".name")) return false;
  }
  return true;
}

}  // namespace detail
}  // namespace tilehv::policy
