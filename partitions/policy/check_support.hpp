// What the semantic checks share: reporting at a field's position and staying quiet about fields the
// loader already reported.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "policy/diagnostic.hpp"
#include "policy/policy.hpp"
#include "policy/source_text.hpp"

namespace tilehv::policy::detail {

void report(const Policy& policy, std::vector<Diagnostic>& findings, const std::string& path, std::string found,
            std::string expected, std::string_view check);

// The field or one that encloses it was malformed, or missing when required.
[[nodiscard]] bool malformed(const Policy& policy, const std::string& path);
// Every partition's (sensor's) name was read: a name not found among them is then really absent, and
// not perhaps one the loader could not read.
[[nodiscard]] bool partition_names_known(const Policy& policy);
[[nodiscard]] bool sensor_names_known(const Policy& policy);

[[nodiscard]] inline std::string partition_path(std::size_t index) { return fmt::format("partitions[{}]", index); }
[[nodiscard]] inline std::string sensor_path(std::size_t index) { return fmt::format("tile.sensors[{}]", index); }
[[nodiscard]] inline std::string channel_path(std::size_t index) { return fmt::format("channels[{}]", index); }
[[nodiscard]] inline std::string assignment_path(std::size_t partition, std::size_t index) {
  return fmt::format("partitions[{}].devices.sensors[{}]", partition, index);
}
// A value the operator wrote, quoted, escaped and shortened for a diagnostic.
[[nodiscard]] inline std::string as_written(std::string_view text) { return quote(text); }

// The checks, each a pure function of the policy (the images check reads the image files).
void check_api_version(const Policy& policy, std::vector<Diagnostic>& findings);
void check_unique_names(const Policy& policy, std::vector<Diagnostic>& findings);
void check_resources_fit_tile(const Policy& policy, std::vector<Diagnostic>& findings);
void check_exclusive_cpus(const Policy& policy, std::vector<Diagnostic>& findings);
void check_sensor_exists(const Policy& policy, std::vector<Diagnostic>& findings);
void check_sensor_ownership(const Policy& policy, std::vector<Diagnostic>& findings);
void check_sensor_sources(const Policy& policy, std::vector<Diagnostic>& findings);
void check_rate_bounds(const Policy& policy, std::vector<Diagnostic>& findings);
void check_network(const Policy& policy, std::vector<Diagnostic>& findings);
void check_channels(const Policy& policy, std::vector<Diagnostic>& findings);
void check_images(const Policy& policy, std::vector<Diagnostic>& findings);
void check_restart(const Policy& policy, std::vector<Diagnostic>& findings);
void check_unjailed(const Policy& policy, std::vector<Diagnostic>& findings);
void check_shadows(const Policy& policy, std::vector<Diagnostic>& findings);
void check_signatures(const Policy& policy, std::vector<Diagnostic>& findings);

}  // namespace tilehv::policy::detail
