// Plan: the difference between the policy in force and the one desired, partition by partition.
#include "policy/plan.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace tilehv::policy {
namespace {

bool same_rates(const std::optional<RateBoundsHz>& a, const std::optional<RateBoundsHz>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || (a->min == b->min && a->max == b->max);
}

std::vector<std::string> sensor_names(const Partition& partition) {
  std::vector<std::string> names;
  for (const SensorAssignment& assignment : partition.sensors) names.push_back(assignment.sensor);
  return names;
}

bool same_rate_bounds(const Partition& a, const Partition& b) {
  if (a.sensors.size() != b.sensors.size()) return false;
  for (std::size_t i = 0; i < a.sensors.size(); ++i) {
    if (!same_rates(a.sensors[i].rate_hz, b.sensors[i].rate_hz)) return false;
  }
  return true;
}

bool same_restart(const Restart& a, const Restart& b) {
  return a.policy == b.policy && a.max_retries == b.max_retries && a.backoff_initial_ms == b.backoff_initial_ms &&
         a.backoff_max_ms == b.backoff_max_ms;
}

// Changes that need the VMM built anew.
std::vector<std::string> restart_changes(const Policy& old_policy, const Partition& old_spec, const Policy& new_policy,
                                         const Partition& new_spec) {
  std::vector<std::string> changes;
  const auto note = [&](bool differs, const char* field) {
    if (differs) changes.emplace_back(field);
  };
  note(old_spec.image_resolved != new_spec.image_resolved, "image");
  note(old_spec.sha256 != new_spec.sha256, "sha256");
  note(old_spec.cmdline != new_spec.cmdline, "cmdline");
  note(old_spec.memory_bytes != new_spec.memory_bytes, "memory");
  note(old_spec.vcpus != new_spec.vcpus, "vcpus");
  note(sensor_names(old_spec) != sensor_names(new_spec), "devices.sensors");
  note(old_spec.network.has_value() != new_spec.network.has_value(), "devices.network");
  if (old_spec.network && new_spec.network) {
    note(old_spec.network->mac != new_spec.network->mac, "devices.network.mac");
    note(old_spec.network->mtu != new_spec.network->mtu, "devices.network.mtu");
  }
  note(old_spec.rng != new_spec.rng, "devices.rng");
  note(old_policy.needs_vsock(old_spec.name) != new_policy.needs_vsock(new_spec.name), "devices.vsock");
  // Both are set when the VMM starts: a sensor's bounds when its stream is granted, the console's
  // limit when its file is opened.
  note(sensor_names(old_spec) == sensor_names(new_spec) && !same_rate_bounds(old_spec, new_spec),
       "devices.sensors.rateHz");
  note(old_spec.console_limit_bytes != new_spec.console_limit_bytes, "devices.console.limit");
  return changes;
}

// Changes the tile makes under a running VMM.
std::vector<std::string> in_place_changes(const Policy& old_policy, const Partition& old_spec,
                                          const Policy& new_policy, const Partition& new_spec) {
  std::vector<std::string> changes;
  const auto note = [&](bool differs, const char* field) {
    if (differs) changes.emplace_back(field);
  };
  note(old_spec.cpu_weight != new_spec.cpu_weight, "cpu.weight");
  note(old_spec.cpu_mode != new_spec.cpu_mode, "cpu.mode");
  // The CPUs a VMM runs on, which for a shared partition depend on what others pin.
  note(old_policy.effective_cpus(old_spec) != new_policy.effective_cpus(new_spec), "cpu.cpus");
  note(!same_restart(old_spec.restart, new_spec.restart), "restart");
  if (old_spec.network && new_spec.network) {
    note(old_spec.network->allow_peers != new_spec.network->allow_peers, "devices.network.allowPeers");
    note(old_spec.network->allow_ethertypes != new_spec.network->allow_ethertypes, "devices.network.allowEthertypes");
  }
  return changes;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

bool same_sensor(const TileSensor& a, const TileSensor& b) {
  return a.name == b.name && a.kind == b.kind && a.poe_ports == b.poe_ports && a.shared_read == b.shared_read &&
         a.source.kind == b.source.kind && a.source.seed == b.source.seed &&
         a.source.day_seconds == b.source.day_seconds && a.source.trace == b.source.trace &&
         a.source.iio_device == b.source.iio_device;
}

bool same_channel(const ChannelDecl& a, const ChannelDecl& b) {
  return a.name == b.name && a.client == b.client && a.server == b.server && a.port == b.port;
}

std::vector<std::string> tile_changes(const Policy* applied, const Policy& desired) {
  if (applied == nullptr) return {"tile"};
  std::vector<std::string> changes;
  const Tile& a = applied->tile;
  const Tile& b = desired.tile;
  if (a.cpus != b.cpus) changes.emplace_back("tile.cpus");
  if (a.memory_bytes != b.memory_bytes) changes.emplace_back("tile.memory");
  if (a.reserved_cpus != b.reserved_cpus || a.reserved_memory_bytes != b.reserved_memory_bytes) {
    changes.emplace_back("tile.reserve");
  }
  if (!std::equal(a.sensors.begin(), a.sensors.end(), b.sensors.begin(), b.sensors.end(), same_sensor)) {
    changes.emplace_back("tile.sensors");
  }
  if (a.uplink_tap != b.uplink_tap) changes.emplace_back("tile.uplink");
  if (!std::equal(applied->channels.begin(), applied->channels.end(), desired.channels.begin(), desired.channels.end(),
                  same_channel)) {
    changes.emplace_back("channels");
  }
  return changes;
}

int order_of(Action action) {
  switch (action) {
    case Action::kDestroy: return 0;
    case Action::kUpdateInPlace: return 1;
    case Action::kRestart: return 2;
    case Action::kCreate: return 3;
    case Action::kUnchanged: return 4;
  }
  return 5;
}

}  // namespace

std::string_view action_name(Action action) {
  switch (action) {
    case Action::kCreate: return "create";
    case Action::kUpdateInPlace: return "update";
    case Action::kRestart: return "restart";
    case Action::kDestroy: return "destroy";
    case Action::kUnchanged: return "unchanged";
  }
  return "unknown";
}

bool Plan::empty() const {
  return !tile_changed && std::all_of(steps.begin(), steps.end(), [](const PlanStep& step) {
           return step.action == Action::kUnchanged;
         });
}

Plan make_plan(const Policy* applied, const Policy& desired, const std::set<std::string>& running) {
  Plan plan;
  if (applied != nullptr) {
    for (const Partition& old_spec : applied->partitions) {
      if (desired.find(old_spec.name) == nullptr) {
        plan.steps.push_back({old_spec.name, Action::kDestroy, "no longer in the policy", {}});
      }
    }
  }
  for (const Partition& new_spec : desired.partitions) {
    const Partition* old_spec = applied != nullptr ? applied->find(new_spec.name) : nullptr;
    if (old_spec == nullptr) {
      plan.steps.push_back({new_spec.name, Action::kCreate, "new in the policy", {}});
      continue;
    }
    auto restart = restart_changes(*applied, *old_spec, desired, new_spec);
    auto in_place = in_place_changes(*applied, *old_spec, desired, new_spec);
    PlanStep step{new_spec.name, Action::kUnchanged, "", {}};
    step.changes = restart;
    step.changes.insert(step.changes.end(), in_place.begin(), in_place.end());
    if (!restart.empty()) {
      step.action = Action::kRestart;
      step.reason = fmt::format("changed: {}", joined(restart));
    } else if (!running.contains(new_spec.name)) {
      step.action = Action::kRestart;
      step.reason = "not running";
    } else if (!in_place.empty()) {
      step.action = Action::kUpdateInPlace;
      step.reason = fmt::format("changed in place: {}", joined(in_place));
    }
    plan.steps.push_back(std::move(step));
  }
  std::stable_sort(plan.steps.begin(), plan.steps.end(), [](const PlanStep& a, const PlanStep& b) {
    return order_of(a.action) < order_of(b.action);
  });
  plan.tile_changes = tile_changes(applied, desired);
  plan.tile_changed = !plan.tile_changes.empty();
  return plan;
}

}  // namespace tilehv::policy
