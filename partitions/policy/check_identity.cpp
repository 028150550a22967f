// Checks of names and single settings: api-version, unique-names, restart, unjailed.
#include <map>

#include "policy/check_support.hpp"
#include "policy/values.hpp"

namespace tilehv::policy::detail {
namespace {

// Names that mean something else where partitions are named: channel ends and allow-lists.
bool reserved_name(const std::string& name) { return name == "host" || name == "uplink"; }

// Reports every name after its first use, pointing at the repeat.
template <typename Items, typename PathOf>
void unique(const Policy& policy, std::vector<Diagnostic>& findings, const Items& items, PathOf path_of,
            std::string_view kind) {
  std::map<std::string, std::size_t> first;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string& name = items[i].name;
    const std::string path = path_of(i) + ".name";
    if (name.empty() || malformed(policy, path)) continue;
    const auto [it, inserted] = first.emplace(name, i);
    if (!inserted) {
      report(policy, findings, path, fmt::format("{}, the name of {} too", as_written(name), path_of(it->second)),
             fmt::format("a name no other {} has", kind), "unique-names");
    }
  }
}

}  // namespace

void check_api_version(const Policy& policy, std::vector<Diagnostic>& findings) {
  if (malformed(policy, "apiVersion") || policy.api_version == kApiVersion) return;
  report(policy, findings, "apiVersion", as_written(policy.api_version), as_written(kApiVersion), "api-version");
}

void check_unique_names(const Policy& policy, std::vector<Diagnostic>& findings) {
  unique(policy, findings, policy.partitions, partition_path, "partition");
  for (std::size_t i = 0; i < policy.partitions.size(); ++i) {
    if (reserved_name(policy.partitions[i].name)) {
      report(policy, findings, partition_path(i) + ".name", as_written(policy.partitions[i].name),
             "a name other than \"host\" and \"uplink\", which channels and allow-lists reserve", "unique-names");
    }
  }
  unique(policy, findings, policy.tile.sensors, sensor_path, "sensor");
  unique(policy, findings, policy.channels, channel_path, "channel");
}

void check_restart(const Policy& policy, std::vector<Diagnostic>& findings) {
  for (std::size_t i = 0; i < policy.partitions.size(); ++i) {
    const Restart& restart = policy.partitions[i].restart;
    const std::string path = partition_path(i) + ".restart";
    if (malformed(policy, path + ".backoffInitialMs") || malformed(policy, path + ".backoffMaxMs")) continue;
    if (restart.backoff_initial_ms > restart.backoff_max_ms) {
      report(policy, findings, path + ".backoffInitialMs", fmt::format("{}", restart.backoff_initial_ms),
             fmt::format("at most backoffMaxMs ({})", restart.backoff_max_ms), "restart");
    }
  }
}

void check_unjailed(const Policy& policy, std::vector<Diagnostic>& findings) {
  if (!policy.unjailed_statement || malformed(policy, "development.unjailed")) return;
  if (*policy.unjailed_statement == kUnjailedSentence) return;
  report(policy, findings, "development.unjailed", as_written(*policy.unjailed_statement),
         fmt::format("exactly \"{}\" (or no development.unjailed at all)", kUnjailedSentence), "unjailed");
}

}  // namespace tilehv::policy::detail
