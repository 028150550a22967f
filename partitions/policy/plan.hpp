// Plan: what applying a policy would do to the partitions that run now, partition by partition, with
// the reason for each step. Nothing is done here: apply carries a plan out, `tilectl plan` shows it.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.hpp"

namespace tilehv::policy {

enum class Action { kCreate, kUpdateInPlace, kRestart, kDestroy, kUnchanged };

// "create", "update", "restart", "destroy", "unchanged".
[[nodiscard]] std::string_view action_name(Action action);

struct PlanStep {
  std::string partition;
  Action action = Action::kUnchanged;
  std::string reason;                // for people: "changed: image, memory", "not running", ...
  std::vector<std::string> changes;  // field paths that differ, e.g. "memory", "devices.network.mtu"
};

struct Plan {
  // Ordered as they must be carried out: destroy, update, restart, create, then the unchanged. Freeing
  // comes first: a destroyed partition returns its memory and CPUs; an update in place moves cgroup
  // settings only (it can release CPUs a restarted or new partition is pinned to); a restart stops its
  // partition before it starts again; a new partition starts last, when everything it may need is free.
  std::vector<PlanStep> steps;
  bool tile_changed = false;
  std::vector<std::string> tile_changes;  // "tile.sensors", "channels", "tile.uplink", ...

  // Nothing to do: every step unchanged and the tile as it is.
  [[nodiscard]] bool empty() const;
};

// `applied`: the policy in force (null: nothing applied yet). `running`: the partitions whose VMM runs
// now. A partition's change needs a restart when its VMM must be built anew (image, sha256, cmdline,
// memory, vCPUs, devices: sensors given, network address and MTU, rng, vsock); settings the tile can
// change under a running VMM (CPU weight, CPUs, restart policy, allow-lists, rate bounds, console limit)
// are updated in place. A partition whose spec is unchanged but that is not running is restarted.
[[nodiscard]] Plan make_plan(const Policy* applied, const Policy& desired, const std::set<std::string>& running);

}  // namespace tilehv::policy
